"""BuildKit builds over the Engine API (``images.build(..., buildkit=True)``).

Loaded on the first BuildKit build, never by ``import aiodock``: the session
needs the optional HTTP/2 package ``h2`` (``pip install aiodock[buildkit]``).

- :mod:`.session` serves gRPC on the upgraded ``POST /session`` connection
  (the daemon is the HTTP/2 client);
- :mod:`.filesync` sends the build context (``FileSync/DiffCopy``);
- :mod:`.exporter` receives the result of a build with ``outputs`` (``FileSend/DiffCopy``);
- :mod:`.secrets`, :mod:`.auth`, :mod:`.ssh` answer the other session services;
- :mod:`.trace` decodes the ``moby.buildkit.trace`` progress into typed events;
- :mod:`.stream` ties them to the build request (:class:`BuildKitStream`).
"""
