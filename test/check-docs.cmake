# Fails when a committed generated doc differs from the freshly generated one.
set(pairs
  "dialects/LLM/IR/LLMDialect.md|docs/Dialects/LLM.md"
  "passes/Passes.md|docs/Passes.md"
  "lowering/Passes.md|docs/LoweringPasses.md")
foreach(pair ${pairs})
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 generated)
  list(GET pair 1 committed)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
    ${BINARY_DIR}/${generated} ${SOURCE_DIR}/${committed}
    RESULT_VARIABLE differs)
  if(differs)
    message(FATAL_ERROR "${committed} is stale: run `ninja frugal-docs` and commit it")
  endif()
endforeach()
