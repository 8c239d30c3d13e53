# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Frugal"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.frugal_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in",
                   "unittests", "check-docs.cmake", "Inputs",
                   "e2e", "fixtures"]

config.environment["FILECHECK_OPTS"] = (
    "-enable-var-scope --allow-unused-prefixes=false")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.frugal_tools_dir, config.llvm_tools_dir]
tools = [ToolSubst("llm-opt", unresolved="fatal"),
         ToolSubst("llm-import", unresolved="fatal"),
         ToolSubst("llm-onnx-test", unresolved="fatal"),
         ToolSubst("llm-calibrate", unresolved="fatal"),
         ToolSubst("llm-compile", unresolved="fatal")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Third-party model files next to the repository (../shared/models).
config.substitutions.append(("%shared_models", config.shared_models_dir))
if os.path.exists(os.path.join(config.shared_models_dir, "stories260K",
                               "stories260K.gguf")):
    config.available_features.add("stories260k")
