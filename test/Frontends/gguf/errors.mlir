// Every GGUF reader and config error, on small broken files. Messages name
// the file, the key or tensor, and what was expected versus found.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_gguf.py bad-magic %t/bad-magic.gguf
// RUN: not llm-import %t/bad-magic.gguf 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: bad-magic.gguf: not a GGUF file: expected magic "GGUF", found "GGML"
// RUN: %python %S/Inputs/make_gguf.py version1 %t/v1.gguf
// RUN: not llm-import %t/v1.gguf 2>&1 | FileCheck %s --check-prefix=V1
// V1: v1.gguf: unsupported GGUF version 1, expected 2 or 3 (GGUF v1 is obsolete
// RUN: %python %S/Inputs/make_gguf.py version4 %t/v4.gguf
// RUN: not llm-import %t/v4.gguf 2>&1 | FileCheck %s --check-prefix=V4
// V4: v4.gguf: unsupported GGUF version 4, expected 2 or 3
// RUN: %python %S/Inputs/make_gguf.py truncated-header %t/th.gguf
// RUN: not llm-import %t/th.gguf 2>&1 | FileCheck %s --check-prefix=THEADER
// THEADER: th.gguf: truncated header (tensor count): expected 8 bytes at offset 8, the file has 2
// RUN: %python %S/Inputs/make_gguf.py truncated-metadata %t/tm.gguf
// RUN: not llm-import %t/tm.gguf 2>&1 | FileCheck %s --check-prefix=TMETA
// TMETA: tm.gguf: truncated metadata: 18 key-value pairs need at least 216 bytes, the file has 176 after the header
// RUN: %python %S/Inputs/make_gguf.py bad-array-count %t/ac.gguf
// RUN: not llm-import %t/ac.gguf 2>&1 | FileCheck %s --check-prefix=ACOUNT
// ACOUNT: ac.gguf: truncated metadata 'tokenizer.ggml.tokens': 1099511627776 elements of type string need at least 8796093022208 bytes at offset {{[0-9]+}}, the file has {{[0-9]+}}
// RUN: %python %S/Inputs/make_gguf.py deep-array %t/deep.gguf
// RUN: not llm-import %t/deep.gguf 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: deep.gguf: metadata 'general.deep'[0][0][0][0][0][0][0][0]: arrays nested deeper than 8
// RUN: %python %S/Inputs/make_gguf.py bad-value-type %t/vt.gguf
// RUN: not llm-import %t/vt.gguf 2>&1 | FileCheck %s --check-prefix=VTYPE
// VTYPE: vt.gguf: metadata 'general.name': unknown value type 13
// RUN: %python %S/Inputs/make_gguf.py bad-alignment %t/al.gguf
// RUN: not llm-import %t/al.gguf 2>&1 | FileCheck %s --check-prefix=ALIGN
// ALIGN: al.gguf: metadata 'general.alignment': expected a power of two, found 24
// RUN: %python %S/Inputs/make_gguf.py offset-past-eof %t/eof.gguf
// RUN: not llm-import %t/eof.gguf 2>&1 | FileCheck %s --check-prefix=EOF
// EOF: eof.gguf: tensor 'blk.0.ffn_down.weight' (F32 [32, 64]): its 8192 bytes at data offset 18464 end past the end of the file (data section: 26556 bytes at file offset 1760)
// RUN: %python %S/Inputs/make_gguf.py misaligned %t/mis.gguf
// RUN: not llm-import %t/mis.gguf 2>&1 | FileCheck %s --check-prefix=MISALIGN
// MISALIGN: mis.gguf: tensor 'blk.0.ffn_norm.weight': offset 4 is not a multiple of the alignment 32
// RUN: %python %S/Inputs/make_gguf.py overlap %t/ov.gguf
// RUN: not llm-import %t/ov.gguf 2>&1 | FileCheck %s --check-prefix=OVERLAP
// OVERLAP: ov.gguf: tensors 'token_embd.weight' (bytes 0..2048) and 'blk.0.ffn_norm.weight' (from 0) overlap
// RUN: %python %S/Inputs/make_gguf.py unknown-type %t/ut.gguf
// RUN: not llm-import %t/ut.gguf 2>&1 | FileCheck %s --check-prefix=UTYPE
// UTYPE: ut.gguf: tensor 'blk.0.attn_q.weight': unknown ggml type id 99
// RUN: %python %S/Inputs/make_gguf.py partial-block %t/pb.gguf
// RUN: not llm-import %t/pb.gguf 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: pb.gguf: tensor 'output_norm.weight': type Q8_0 stores blocks of 32 elements, but the row length (ne[0]) is 20
// RUN: %python %S/Inputs/make_gguf.py too-many-dims %t/dims.gguf
// RUN: not llm-import %t/dims.gguf 2>&1 | FileCheck %s --check-prefix=DIMS
// DIMS: dims.gguf: tensor 'output_norm.weight': 5 dimensions, expected at most 4
// RUN: %python %S/Inputs/make_gguf.py duplicate-tensor %t/dup.gguf
// RUN: not llm-import %t/dup.gguf 2>&1 | FileCheck %s --check-prefix=DUP
// DUP: dup.gguf: tensor 'output_norm.weight' appears twice
// RUN: %python %S/Inputs/make_gguf.py shape-mismatch %t/shape.gguf
// RUN: not llm-import %t/shape.gguf 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: tensor 'model.layers.0.self_attn.q_proj.weight': expected shape [32, 32], found [32, 64] (in {{.*}}shape.gguf)
// RUN: %python %S/Inputs/make_gguf.py missing-tensor %t/mt.gguf
// RUN: not llm-import %t/mt.gguf 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: missing tensor 'model.layers.0.mlp.up_proj.weight' in checkpoint {{.*}}mt.gguf
// RUN: %python %S/Inputs/make_gguf.py unsupported-arch %t/arch.gguf
// RUN: not llm-import %t/arch.gguf 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: arch.gguf: unsupported architecture 'mamba' (supported: llama, qwen2)
// RUN: %python %S/Inputs/make_gguf.py missing-key %t/key.gguf
// RUN: not llm-import %t/key.gguf 2>&1 | FileCheck %s --check-prefix=KEY
// KEY: key.gguf: missing metadata 'llama.block_count'
// RUN: %python %S/Inputs/make_gguf.py wrong-key-type %t/kt.gguf
// RUN: not llm-import %t/kt.gguf 2>&1 | FileCheck %s --check-prefix=KTYPE
// KTYPE: kt.gguf: metadata 'llama.block_count': expected a positive integer, found string
// RUN: not llm-import %t/absent.gguf 2>&1 | FileCheck %s --check-prefix=ABSENT
// ABSENT: absent.gguf: cannot open: No such file or directory
