"""aiodock's benchmarks against aiodocker, docker-py and bare aiohttp on a real engine.

Run ``python -m benchmarks --help`` (or ``nox -s bench``). The parent process
prepares the engine (containers, data files), then runs every repetition of
every scenario for every client in a fresh subprocess (:mod:`benchmarks.worker`),
interleaving the clients, and writes ``benchmarks/results/latest.{md,png,json}``.
"""
