"""LLaMA-Factory trains through the HF Trainer, which saves `checkpoint-*/trainer_state.json` in
the output dir: older copies of the run's log history (public: syGOAT/Mistral-v0.2-Translator-bf16
holds 17 of them beside its `trainer_log.jsonl`). They belong to the run: not runs of their own,
not files "logan does not recognise"."""

from __future__ import annotations

import shutil

import logan
from tests.conftest import SHARED, need

OUTPUT = SHARED / "public_logs_2" / "suzushi-llamafactory-lora-3epoch"


def test_checkpoint_states_under_a_llamafactory_output_belong_to_its_run(tmp_path):
    out = tmp_path / "saves"
    shutil.copytree(need(OUTPUT), out)
    alone = logan.analyze(out)
    for step in (500, 1000):
        (out / f"checkpoint-{step}").mkdir()
        shutil.copy(out / "trainer_state.json", out / f"checkpoint-{step}" / "trainer_state.json")
    analysis = logan.analyze(out)
    assert [r.run.path for r in analysis.results] == [str(out)]
    assert [f.code for f in analysis.findings] == [f.code for f in alone.findings]
    assert not [n for n in analysis.not_analysed if "checkpoint-" in n.path]
