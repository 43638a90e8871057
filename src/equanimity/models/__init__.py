"""Model providers shipped with equanimity (reference personas; the local GGUF model)."""
