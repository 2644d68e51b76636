"""Reliability and security tests: crashes, concurrency, hostile input, LLM faults."""
