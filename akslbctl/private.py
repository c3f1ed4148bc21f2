"""One private folder (mode 0700) for the files a run must write that hold credentials: the client
key and certificate the kubernetes client extracts from a kubeconfig's ``client-key-data`` /
``client-certificate-data``. It is removed when the run ends — by :func:`remove` in the program
entry's ``finally``, at exit, and on SIGTERM/SIGHUP (which end the run like Ctrl-C) — so no private
key is left in ``$TMPDIR`` whatever ends the run.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

_dir: str | None = None


def directory() -> str:
    """The run's private folder, created on first use."""
    global _dir
    if _dir is None or not os.path.isdir(_dir):
        _dir = tempfile.mkdtemp(prefix="akslbctl-")  # 0700, owned by us
        import atexit

        atexit.register(remove)
    return _dir


def remove() -> None:
    """Remove the folder and everything in it; forget the kubernetes client's cache of those files."""
    global _dir
    folder, _dir = _dir, None
    if folder is None:
        return
    shutil.rmtree(folder, ignore_errors=True)
    kube_config = sys.modules.get("kubernetes.config.kube_config")
    cache = getattr(kube_config, "_temp_files", None)
    if isinstance(cache, dict):
        for key, name in list(cache.items()):
            if isinstance(name, str) and name.startswith(folder + os.sep):
                del cache[key]
