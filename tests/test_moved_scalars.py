"""A scalars.json that LocalVisBackend wrote outside its work_dir (`scalar_save_file` pointing to
the repository root, as in public_logs_2/kachusov-mmseg-tb-in-workdir) is that work_dir's
training again: read once, not reported as a second run. Built from real mmengine work_dirs of
sample_logs/; the copy at the root is the session's own scalars file, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import logan
from tests.conftest import SAMPLES

PLATEAU, FIXED = SAMPLES / "mmengine_plateau_e4", SAMPLES / "mmengine_fixed_e4"


def _work_dir(repo: Path, sample: Path) -> Path:
    target = repo / "work_dirs" / sample.name
    shutil.copytree(sample, target)
    return target


def _scalars(work_dir: Path) -> Path:
    (path,) = work_dir.glob("*/vis_data/scalars.json")
    return path


def test_a_scalars_file_moved_above_its_work_dir_is_read_once(tmp_path):
    repo = tmp_path / "repo"
    plateau = _work_dir(repo, PLATEAU)
    shutil.copy(_scalars(plateau), repo / "scalars.json")
    analysis = logan.analyze(repo)
    (result,) = analysis.results
    assert result.run.path == str(plateau)
    assert {f.code for f in result.findings} == {
        f.code for f in logan.analyze(PLATEAU).results[0].findings
    }
    repeats = [n for n in analysis.not_analysed if n.path.endswith("repo/scalars.json")]
    assert len(repeats) == 1 and repeats[0].reason.startswith("repeats records")


def test_with_two_work_dirs_below_it_the_file_stays_a_run_of_its_own(tmp_path):
    repo = tmp_path / "repo"
    plateau = _work_dir(repo, PLATEAU)
    _work_dir(repo, FIXED)
    shutil.copy(_scalars(plateau), repo / "scalars.json")
    paths = sorted(r.run.path for r in logan.analyze(repo).results)
    assert len(paths) == 3 and str(repo) in paths  # the root folder holds a run of its own


def test_another_training_moved_above_a_work_dir_is_still_analysed(tmp_path):
    repo = tmp_path / "repo"
    _work_dir(repo, PLATEAU)
    shutil.copy(_scalars(FIXED), repo / "scalars.json")
    results = logan.analyze(repo).results
    assert len(results) == 2
    assert sorted(r.run.last_step for r in results) == [160, 160]


def test_the_work_dirs_dumped_config_stays_with_its_own_attempt(tmp_path):
    """The config dumped in the work_dir is for the work_dir's training; the other training
    moved above it is checked against its logs alone."""
    repo = tmp_path / "repo"
    plateau = _work_dir(repo, PLATEAU)
    for own in [*plateau.glob("*/vis_data/config.py"), *plateau.glob("*/*.log")]:
        own.unlink()  # the session's config and the log printing it: only the work_dir's dump
    shutil.copy(_scalars(FIXED), repo / "scalars.json")
    by_place = {r.run.path.startswith(str(plateau)): r for r in logan.analyze(repo).results}
    inside, moved = by_place[True], by_place[False]
    assert inside.expected is not None and inside.expected.source == "config"
    assert "LR001" in {f.code for f in inside.findings}
    assert moved.expected is None or moved.expected.source != "config"


def test_lone_scalars_files_in_nested_folders_stay_runs_of_their_own(tmp_path):
    """Only a work_dir takes a moved file in: a lone scalars file below is no work_dir."""
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    shutil.copy(_scalars(PLATEAU), repo / "scalars.json")
    shutil.copy(_scalars(FIXED), repo / "sub" / "scalars.json")
    paths = sorted(r.run.path for r in logan.analyze(repo).results)
    assert paths == [str(repo), str(repo / "sub")]
