"""Must-show: a run with a canary API key leaves it nowhere: not in reports, memory (Chroma's SQLite),
caches, checkpoints, the lock file, stdout or stderr, whether the run succeeds, is killed mid-way,
meets server errors or stops on a config error.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from brief.cli import Redactor
from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, brief, brief_env, labels_for, week_snapshot, write_config
from tests.scripted_llm import ScriptedLLMServer, random_faults


def files_under(*roots):
    return [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]


def files_containing(paths, needles: list[str]) -> dict[str, list[str]]:
    """The files holding each needle, read by a child process: opening and closing a SQLite file here would drop
    the locks this process's own connections hold on it (the shared embedding cache), and corrupt it."""
    script = ("import json, sys\npaths, needles = json.load(sys.stdin)\nblobs = {p: open(p, 'rb').read() for p in paths}\n"
              "print(json.dumps({n: [p for p, b in blobs.items() if n.encode() in b] for n in needles}))")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps([[str(p) for p in paths], needles]),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def with_auth_log(srv: ScriptedLLMServer) -> list[str]:
    """Record each request's Authorization header: proof the canary really was the key in use."""
    seen: list[str] = []
    handler = srv._httpd.RequestHandlerClass
    post = handler.do_POST

    def do_post(self):
        seen.append(self.headers.get("Authorization", ""))
        post(self)

    handler.do_POST = do_post
    return seen


def test_a_canary_key_appears_in_no_file_and_no_output(tmp_path, cache_dir):
    canary = f"sk-canary-{uuid.uuid4().hex}"
    db_password = f"pw-canary-{uuid.uuid4().hex}"
    snapshot = week_snapshot(tmp_path / "snapshot", 40)
    config = write_config(tmp_path / "brief.toml", cache_dir)
    config.write_text(config.read_text().replace("max_retries = 2", "max_retries = 0"))
    labels = labels_for(snapshot)
    outputs = []

    def weekly(name: str, env: dict, *extra: str):
        done = brief("weekly", "--week", "2026-W24", "--source", f"snapshot:{snapshot}", "--config", str(config),
                     "--memory-dir", str(tmp_path / name / "memory"), "--out", str(tmp_path / name / "out"),
                     *extra, env=env)
        outputs.extend([done.stdout, done.stderr])
        return done

    with ScriptedLLMServer(handlers=brief_handlers(labels, TOPIC)) as srv:
        auth = with_auth_log(srv)
        env = brief_env(OPENAI_API_KEY=canary, OPENAI_BASE_URL=srv.base_url, BRIEF_MODEL="scripted")
        ok = weekly("ok", env, "--json")
        assert ok.returncode == 0, ok.stderr
        killed = weekly("killed", brief_env(**env, BRIEF_TEST_KILL_AFTER="review"), "-q")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert auth and all(a == f"Bearer {canary}" for a in auth), "the canary was the key sent to the server"

    with ScriptedLLMServer(handlers=brief_handlers(labels, TOPIC), faults=random_faults(7, p429=0, p500=0.5)) as srv:
        faulty = weekly("faulty", brief_env(OPENAI_API_KEY=canary, OPENAI_BASE_URL=srv.base_url, BRIEF_MODEL="scripted"))
        assert faulty.returncode in (0, 1, 3), faulty.stderr  # 3: a partial run (papers left unscreened)
        assert "warning:" in faulty.stderr, "server errors were reported"

    keyed = tmp_path / "keyed.toml"  # a key in the file, and a mistake elsewhere in it
    keyed.write_text(config.read_text().replace("[llm]\n", f'[llm]\napi_key = "{canary}"\nmodle = "x"\n'))
    bad = brief("weekly", "--config", str(keyed), "--week", "2026-W24", "--memory-dir", str(tmp_path / "bad"),
                env=brief_env(OPENAI_API_KEY=canary))
    outputs.extend([bad.stdout, bad.stderr])
    assert bad.returncode == 2 and "llm.modle" in bad.stderr

    pg = weekly("pg", brief_env(OPENAI_API_KEY=canary, OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                                BRIEF_CHECKPOINT_URL=f"postgresql://brief:{db_password}@127.0.0.1:9/brief"), "-q",
                "--offline")  # else the LLM preflight (nothing at :9) stops it before the checkpoint store is opened
    assert pg.returncode in (1, 2) and ("langgraph-checkpoint-postgres" in pg.stderr or "Postgres" in pg.stderr)

    written = [p for p in files_under(tmp_path, cache_dir) if p != keyed]
    names = {p.name for p in written}
    assert {"2026-W24.json", "2026-W24.md", "2026-W24.html", "chroma.sqlite3", "llm-cache.sqlite",
            "checkpoints.sqlite", "brief.lock"} <= names, names
    paper_id = next(iter(labels))
    found = files_containing(written, [paper_id, canary, db_password])
    # positive control: the grep does see what the killed run checkpointed
    assert any(Path(p).name.startswith("checkpoints.sqlite") and "killed" in p for p in found[paper_id])
    for secret in (canary, db_password):
        leaks = found[secret]
        assert leaks == [], f"the secret is in {leaks}"
        assert not any(secret in text for text in outputs), "the secret is on stdout or stderr"


def test_error_lines_and_log_records_are_redacted():
    canary = f"sk-canary-{uuid.uuid4().hex}"
    redact = Redactor({"OPENAI_API_KEY": canary, "HOME": "/root", "SMTP_PASSWORD": "hunter22"})
    assert redact(f"401: bad key {canary} for hunter22") == "401: bad key *** for ***"
    redact.add(["from-a-config-file"])
    assert "from-a-config-file" not in redact("key from-a-config-file rejected")
    assert redact("/root/briefings") == "/root/briefings", "only secrets are masked"


def test_encodings_of_a_secret_are_redacted_too():
    """Issue 18, finding 4: a server may echo the password base64-encoded (AUTH LOGIN, AUTH PLAIN's
    `\\0user\\0password`) or URL-encoded; the redactor on stderr and in error lines masks those forms too."""
    import base64
    from urllib.parse import quote, quote_plus

    password = "smtp CANARY/777+?"
    redact = Redactor({"BRIEF_SMTP_PASSWORD": password})
    forms = [base64.b64encode(password.encode()).decode(), base64.urlsafe_b64encode(password.encode()).decode(),
             base64.b64encode(f"\0me@example.org\0{password}".encode()).decode(), quote(password, safe=""),
             quote_plus(password), base64.b64encode(password.encode()).decode().rstrip("=")]
    for form in forms:
        line = redact(f"535 5.7.8 AUTH {form} rejected")
        assert line == "535 5.7.8 AUTH *** rejected", (form, line)
    untouched = f"AUTH {base64.b64encode(b'another secret').decode()} rejected at 2026-06-08"
    assert redact(untouched) == untouched, "only encodings of a secret are masked"
