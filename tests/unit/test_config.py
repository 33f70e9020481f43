from pathlib import Path

import pytest

from brief.config import ConfigError
from brief.config_file import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brief.toml"
    path.write_text(text)
    return path


def test_demo_config_loads_offline_without_env():
    s = load_settings(None, env={})
    assert len(s.criteria.topics) >= 3
    assert not s.llm_enabled


def test_env_turns_on_the_llm_and_sets_the_model():
    s = load_settings(None, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "BRIEF_MODEL": "qwen"})
    assert s.llm_enabled and s.llm.model == "qwen" and s.llm.base_url == "http://127.0.0.1:9/v1"
    assert load_settings(None, env={"OPENAI_API_KEY": "sk-x"}).llm.api_key.get_secret_value() == "sk-x"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[criteria\n", "not valid TOML"),
        ("[criteria]\ntopics = []\n", "criteria.topics"),
        ("[criteria]\nbogus = 1\n[[criteria.topics]]\nname='a'\ndescription='b'\n", "criteria.bogus"),
        ("[[criteria.topics]]\nname='a'\ndescription='b'\n[screening]\naccept_relevance = 11\n", "screening.accept_relevance"),
        ("[criteria]\n[[criteria.topics]]\nname='a'\n", "description"),
        ("[[criteria.topics]]\nname='a'\ndescription='b'\n[llm]\nconcurrency = 'many'\n", "llm.concurrency"),
        # a misspelt section or key is named before the "Field required" it causes, with its likely spelling
        ("[critera]\ninterests='x'\n[[critera.topics]]\nname='a'\ndescription='b'\n", "critera: Extra inputs are not permitted "
         "(did you mean criteria?)"),
        ("[[criteria.topics]]\nname='a'\ndescription='b'\nrelevnt='x'\n", "(did you mean criteria.topics.0.relevant?)"),
        ("[[criteria.topics]]\nname='a'\ndescription='b'\n[llm]\nmodle='x'\n", "(did you mean llm.model?)"),
    ],
)
def test_bad_configs_name_the_problem_in_one_line(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="brief init"):
        load_settings(tmp_path / "nope.toml", env={})
