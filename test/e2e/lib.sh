# Helpers sourced by the end-to-end scripts.

# The hint shown when a model of ../shared/models is missing.
SHARED_MODELS_HINT="the shared test models live next to the repository"

# skip_unless_files HINT FILE...: exits 77 (ctest's skip code) with a line
# naming every missing FILE and HINT, unless all of them exist.
skip_unless_files() {
  local hint="$1" missing=() f
  shift
  for f in "$@"; do
    [ -f "$f" ] || missing+=("$f")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "SKIP: ${missing[*]} not found ($hint)"
  exit 77
}
