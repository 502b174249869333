"""Benchmarks: each prints figures (throughput, ratio to a raw baseline, peak memory).

They never assert on time: these machines are shared and noisy. Run one with
``python -m bench.<name>`` or all with ``make bench``.
"""
