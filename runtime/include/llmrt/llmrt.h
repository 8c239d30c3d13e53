/*===- llmrt.h - Frugal runtime C ABI ----------------------------*- C -*-===*\
 *
 * What a compiled Frugal model links against. The compiled model object
 * provides `frugal_forward`; the runtime provides weights mapping, tokenizer,
 * sampler, the generation loop, metrics and the CLI. No LLVM/MLIR inside.
 *
 * Conventions: opaque handles, llmrt_status returns, results through out_
 * parameters, every buffer allocated once up front. The message of the last
 * failure on the calling thread is available from llmrt_last_error().
\*===----------------------------------------------------------------------===*/

#ifndef LLMRT_LLMRT_H
#define LLMRT_LLMRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===--- Model ABI (implemented by the compiled model) --------------------===*/

/* Runs the model on n_tokens new tokens at absolute positions
 * start_pos .. start_pos + n_tokens - 1, appending their keys/values to
 * kv_cache, and writes the vocab_size logits of the last token to logits_out.
 * `weights` is the model file's base address + data_offset. The model's
 * activation arena is sized for the metadata's max_tokens_per_call tokens
 * per step; a larger n_tokens runs as consecutive steps. */
void frugal_forward(const uint8_t *weights, void *kv_cache,
                    const int64_t *tokens, int64_t n_tokens, int64_t start_pos,
                    float *logits_out);

typedef void (*llmrt_forward_fn)(const uint8_t *weights, void *kv_cache,
                                 const int64_t *tokens, int64_t n_tokens,
                                 int64_t start_pos, float *logits_out);

/* The batched decode step (models compiled with --max-batch N > 1, whose KV
 * cache is paged): one token for each of n_rows <= N sequences, row i being
 * tokens[i] at absolute position positions[i] of the sequence whose blocks
 * row i of the cache's block table names; writes n_rows * vocab_size
 * logits. Weak: absent (NULL) in single-sequence models. */
void frugal_forward_batch(const uint8_t *weights, void *kv_cache,
                          const int64_t *tokens, const int64_t *positions,
                          int64_t n_rows, float *logits_out)
    __attribute__((weak));

typedef void (*llmrt_forward_batch_fn)(const uint8_t *weights, void *kv_cache,
                                       const int64_t *tokens,
                                       const int64_t *positions,
                                       int64_t n_rows, float *logits_out);

/* Like frugal_forward, but writes the logits of every new token:
 * n_tokens * vocab_size floats, row i for the token at start_pos + i.
 * n_tokens is at most the metadata's score_rows (the step's arena is sized
 * for that many and asserts it). Scoring a text (--perplexity) uses it.
 * Weak: absent (NULL) in models compiled with llm-compile --score-rows 0. */
void frugal_forward_all(const uint8_t *weights, void *kv_cache,
                        const int64_t *tokens, int64_t n_tokens,
                        int64_t start_pos, float *logits_out)
    __attribute__((weak));

/* Backend function table: how the generation loop reaches the model.
 * forward_batch and forward_all may be NULL. */
typedef struct llmrt_backend {
  llmrt_forward_fn forward;
  llmrt_forward_batch_fn forward_batch;
  llmrt_forward_fn forward_all;
} llmrt_backend;

/* Weights embedded in the executable by `llm-compile --embed-weights`
 * (a complete .fgw image). Weak: absent unless the model object defines them.
 * The array must be 64-byte aligned. */
extern const uint8_t frugal_embedded_weights[] __attribute__((weak));
extern const uint64_t frugal_embedded_weights_size __attribute__((weak));

/*===--- Runtime API -------------------------------------------------------===*/

typedef enum llmrt_status {
  LLMRT_OK = 0,
  LLMRT_ERROR_INVALID_ARGUMENT = 1,
  LLMRT_ERROR_IO = 2,          /* cannot open / map a file */
  LLMRT_ERROR_BAD_FORMAT = 3,  /* model file or metadata rejected */
  LLMRT_ERROR_OUT_OF_MEMORY = 4,
  LLMRT_ERROR_CONTEXT_FULL = 5 /* prompt longer than the KV cache */
} llmrt_status;

typedef struct llmrt_model llmrt_model;         /* mapped, validated .fgw */
typedef struct llmrt_tokenizer llmrt_tokenizer; /* BPE tokenizer */

/* Message of the last failed call on this thread ("" if none). */
const char *llmrt_last_error(void);

/* Maps and validates a model file. */
llmrt_status llmrt_model_open_file(const char *path, llmrt_model **out_model);
/* Validates a model file image in memory; `data` must outlive the model. */
llmrt_status llmrt_model_open_memory(const uint8_t *data, uint64_t size,
                                     llmrt_model **out_model);
void llmrt_model_close(llmrt_model *model);

/* Metadata value of `key` (NUL-terminated, owned by the model), or NULL. */
const char *llmrt_model_metadata(const llmrt_model *model, const char *key);
/* Base of the weights blob (what frugal_forward receives) and its size. */
const uint8_t *llmrt_model_weights(const llmrt_model *model,
                                   uint64_t *out_size);

llmrt_status llmrt_tokenizer_create(const llmrt_model *model,
                                    llmrt_tokenizer **out_tokenizer);
void llmrt_tokenizer_destroy(llmrt_tokenizer *tokenizer);
/* Encodes `text` (adding BOS per the model's add_bos) into `ids`, which holds
 * `capacity` entries; *out_count receives the full count even when it
 * exceeds capacity (then LLMRT_ERROR_INVALID_ARGUMENT is returned). */
llmrt_status llmrt_tokenizer_encode(const llmrt_tokenizer *tokenizer,
                                    const char *text, size_t text_len,
                                    int32_t *ids, size_t capacity,
                                    size_t *out_count);
/* Raw bytes of one token (not NUL-terminated), NULL if out of range. */
const char *llmrt_tokenizer_token(const llmrt_tokenizer *tokenizer, int32_t id,
                                  size_t *out_len);

/* The `./model` command line; returns the process exit code. */
int llmrt_main(int argc, char **argv, const llmrt_backend *backend);

#ifdef __cplusplus
}
#endif

#endif /* LLMRT_LLMRT_H */
