"""`opcp exi decode` as a shell user runs it: `--pretty` indents, and a reader that closes the
pipe early (`| head`) ends the command quietly with exit 0, no "Broken pipe" message."""

from __future__ import annotations

import base64
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

from opcp.paths import REPO
from opcp_cli import main


def test_pretty_is_the_same_xml_indented(tmp_path: Path, real_messages: dict[str, bytes], capsys) -> None:
    message = tmp_path / "msg.b64"
    message.write_bytes(base64.b64encode(next(iter(real_messages.values()))))
    assert main(["exi", "decode", str(message)]) == 0
    flat = capsys.readouterr().out.strip()
    assert main(["exi", "decode", "--pretty", str(message)]) == 0
    pretty = capsys.readouterr().out
    assert pretty.count("\n") > 10 and "\n  <" in pretty
    same = xml.dom.minidom.parseString
    assert same(flat).toxml() == same("".join(line.strip() for line in pretty.splitlines())).toxml()


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, real_messages: dict[str, bytes]) -> None:
    message = tmp_path / "msg.b64"
    message.write_bytes(base64.b64encode(next(iter(real_messages.values()))))
    proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "exi", "decode", "--pretty", str(message)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
