"""equanimity: behavioural evaluation of language models on model welfare and sycophancy."""

__version__ = "0.1.0"
