"""Real folders as people leave them (../shared/public_logs_2): every run found and read as the
folder's README describes, attempts kept apart, sessions classified, and everything that holds no
training accounted for with its reason.

Each entry is the verdict a careful engineer reaches from the README and the files: the runs
(path relative to the folder, last training step, how each session began, the exact codes) and
the count of sessions or files that hold no training run, by reason. Codes that wait on rules
still in progress are not guessed here: where a README implies one, the comment says so.
"""

from __future__ import annotations

from collections import Counter

import pytest

import logan
from tests.conftest import SHARED, need

PUBLIC_2 = SHARED / "public_logs_2"

ENDED = "ended before the first training line"
TEST = "test or validation only"
CONFIG = "config only (ended before the first training line)"
SUMMARY = "no training scalars (summary values only)"
REPEAT = "repeats records read from another file (read once)"

# session kinds: f = fresh start, r = resume, l = load_from continuation
VERDICTS: dict[str, tuple[dict[str, tuple[int, str, set[str]]], dict[str, int]]] = {
    # Fit and test write separate event files: test files and hp_metric-only versions are not
    # training; each version is one fit session.
    "bullseye-lightning-tb-test-events": (
        {
            f"lightning_logs/version_{v}": (last, "f", set())
            for v, last in {
                0: 1382,
                1: 691,
                5: 400,
                6: 650,
                7: 691,
                8: 691,
                9: 691,
                10: 6219,
                12: 691,
                13: 4837,
                14: 691,
                15: 11747,
                19: 1382,
                20: 7601,
            }.items()
        },
        {TEST: 12, SUMMARY: 7},
    ),
    # Six separate 5-epoch trainings: six runs, no restart, no throughput drop between them. The
    # three lr-0.1 runs decay by 0.1% in 5 epochs, per epoch (a 200-epoch cosine): LR006.
    "charleyli-cifar-visdata-only": (
        {
            "20250822_234123": (7812, "f", set()),
            "20250823_002706": (1954, "f", {"LR006"}),
            "20250827_203554": (781, "f", set()),
            "20250827_203653": (781, "f", set()),
            "20250829_111038": (1954, "f", {"LR006"}),
            "20250829_111640": (1954, "f", {"LR006"}),
        },
        {},
    ),
    # MMLab2: max_epochs=1 with milestones [30, 60, 90]: the LR never decays (LR002).
    "comradejiang-camp-mmlab123": (
        {"MMLab2": (800, "f", {"LR002"}), "MMLab3": (239, "f", set())},
        {},
    ),
    "debajyoti-lightning-tb-nan": (
        {
            "lightning_logs/version_1": (500, "f", set()),
            "lightning_logs/version_3": (500, "f", {"LS001"}),
        },
        {SUMMARY: 2, TEST: 2},
    ),
    # PolyLR end=40000 on an 800-iteration fine-tune: LR002.
    "djgq2020-mmseg-pspnet-tutorial": ({"tutorial": (800, "f", {"LR002"})}, {ENDED: 2, TEST: 1}),
    # A vis_data/ reused by 35 attempts: 27 hold only the config, 8 trained (each its own run).
    "doomed-deeplabv3-animals": (
        {
            "work_dir": (213, "f", set()),
            "work_dir_experiment": (300, "f", set()),
            **{
                f"vis_data/events.out.tfevents.{t}.epd9ngqug7ikjbqjnlgs.{pid}.0": (n, "f", set())
                for t, pid, n in [
                    (1777178178, 6310, 3),
                    (1777178339, 6595, 3),
                    (1777178488, 6878, 3),
                    (1777179029, 7674, 3),
                    (1777179118, 7944, 3),
                    (1777179225, 8294, 3),
                    (1777179424, 8769, 3),
                    (1777179496, 9144, 36),
                ]
            },
        },
        {CONFIG: 27},
    ),
    "dys-danet-tensorboard-only": ({".": (3000, "f", set())}, {}),
    "gi7014-llamafactory-predict-only": ({}, {"predict only (no training)": 1}),
    # The repository-root scalars.json is the trained session's own (scalar_save_file pointed
    # there); the three other sessions left only their config.
    # LocalVisBackend's `scalar_save_file` pointed to the repository root: that scalars.json is
    # the work_dir's training again (read once), not a second run.
    "kachusov-mmseg-tb-in-workdir": (
        {"logs/Dataset_128_CrossEntropyLoss_Adam_bsize_2": (6, "f", set())},
        {CONFIG: 6, REPEAT: 2},
    ),
    # Three trainings wrote into one results/: one run each, from its newest checkpoint.
    "laziestcactus-gpt2-lora-ckpt-only": (
        {
            "results/checkpoint-7500": (7500, "f", set()),
            "results/checkpoint-1500": (1500, "f", set()),
            "results/checkpoint-872": (870, "f", {"LR005"}),  # 500 warmup steps of 872
        },
        {},
    ),
    # 22 flattened mmcv sessions: 18 never trained, three brief attempts killed during the
    # warmup (no LR005: they stopped, the warmup did not fail), and the final 1-epoch run whose
    # `step=[8, 11]` never applies (LR002).
    "lyc686-mmdet2-voc-flat-log": (
        {
            "20230209_191410.log": (350, "f", set()),
            "20230209_223549.log": (200, "f", set()),
            "20230209_224222.log": (350, "f", set()),
            "20230209_225526.log": (8500, "f", {"LR002"}),
        },
        {ENDED: 18},
    ),
    # Two fresh fine-tunes (load_from pretrained weights), never stitched; milestones [40, 80] of
    # a 100-epoch recipe trained for 10 epochs: the LR never decays (LR002).
    "mars3219-tsn-tutorial": (
        {
            "checkpoints/tutorial_exps/20240720_050910": (150, "f", {"LR002"}),
            "checkpoints/tutorial_exps/20240721_003944": (150, "f", {"LR002"}),
        },
        {CONFIG: 3},
    ),
    # PolyLR end=160 of 300 iterations: the schedule ends early (LR002).
    "nhuy-knet-flat-repo-root": ({".": (300, "f", {"LR002"})}, {REPEAT: 1}),
    "pengzha0-unet-idrid-renamed-sessions": (
        {
            "first_fp_idrid": (40000, "f", {"LS002"}),
            "first_bnn_failed": (40000, "f", set()),
            "20230630_090430": (17950, "f", set()),
        },
        {CONFIG: 3},
    ),
    # Both sides of the merge conflict hold the same records: read once, no damage.
    "piguaizjx-merge-conflict-workdir": ({".": (20199, "f", set())}, {REPEAT: 1}),
    # Two writers, then a continuation from checkpoint-5000 appended: one run, fresh + resume.
    "rameyjm7-llamafactory-two-writers": ({".": (6560, "fr", set())}, {}),
    "rogerlv51-camp-renamed-logs": (
        {
            "lab_first_assignment/rtmdet_train_20230603_192021.log": (
                4200,
                "f",
                {"LR002", "LS002"},
            ),
            "lab_first_assignment/rtmpose_train_20230603_222429.log": (1500, "f", set()),
            "lab_forth_assignment/train_log": (2000, "f", {"LR002"}),  # PolyLR end=40000
            "lab_second_assignment": (1333, "f", {"LR002"}),  # [30, 60, 90] in 10 epochs
            "lab_third_assignment": (917, "f", set()),
        },
        {TEST: 5},
    ),
    "rohith-lightning-csv-nan": (
        {
            "lightning_logs/version_0": (18600, "f", {"LS001", "LS002"}),
            "lightning_logs/version_1": (32550, "f", {"LS001", "LS002"}),
            "lightning_logs/version_2": (4650, "f", {"LR005", "LS001", "LS002"}),
            "lightning_logs/version_4": (37200, "f", set()),
        },
        {},
    ),
    # The killed rtmpose run and its fresh restart are two runs; test sessions are accounted.
    "shihang-ear-rtmdet-rtmpose": (
        {
            "rtmdet_tiny_ear": (4200, "f", {"LR002"}),
            "rtmpose-s-ear/20230605_154225": (742, "f", {"LS002"}),
            "rtmpose-s-ear/20230605_191149": (76, "f", set()),
        },
        {TEST: 2},
    ),
    "suzushi-llamafactory-lora-3epoch": ({".": (8710, "f", set())}, {}),
    "sxyxs-cifar-glued-metric": ({".": (7812, "f", set())}, {}),
    # scalars.json: an earlier run (kept, with no config of its own) then a copy of the session.
    "tranquanglam-m2f-0515-concat-scalars": (
        {"scalars.json (1)": (300, "f", {"LR001"}), "20230515_061341.log": (300, "f", set())},
        {REPEAT: 1},
    ),
    # eta_min equal to the base LR: flat at 1e-4 by design, not a plateau.
    "tranquanglam-m2f-0523-misnamed": ({".": (4000, "f", set())}, {REPEAT: 1}),
    # 7 attempts that trained; 023655 and 032022 configure a 5-epoch warmup for 5 epochs.
    "vitanco-swinv2-isic-workdir": (
        {
            "20230511_020518": (600, "f", set()),
            "20230511_023323": (300, "f", set()),
            "20230511_023655": (1000, "f", {"LR005"}),
            "20230511_030539": (300, "f", set()),
            "20230511_031112": (100, "f", set()),
            "20230511_031501": (100, "f", set()),
            "20230511_032022": (3504, "f", {"LR005"}),
        },
        {ENDED: 11, TEST: 1},
    ),
    "xueh-llamafactory-qwen-medical": ({".": (6750, "f", set())}, {}),
    "zhijun-mmseg-pspnet-repo-root": ({".": (800, "f", {"LR002"})}, {ENDED: 1}),
}


def _relative(path: str, folder: str) -> str:
    rel = path.split(folder, 1)[1].lstrip("/")
    return rel or "."


@pytest.mark.parametrize("folder", sorted(VERDICTS))
def test_public_folder_verdict(folder: str) -> None:
    analysis = logan.analyze(need(PUBLIC_2 / folder))
    assert analysis.problems == []
    runs = {
        _relative(r.run.path, folder): (
            r.run.last_step,
            "".join(s.kind[0] for s in r.run.sessions),
            {f.code for f in r.findings},
        )
        for r in analysis.results
    }
    unread = Counter(n.reason.split(":", 1)[0] for n in analysis.not_analysed)
    expected_runs, expected_unread = VERDICTS[folder]
    assert runs == expected_runs
    assert dict(unread) == expected_unread


def test_every_public_folder_has_a_verdict() -> None:
    folders = {p.name for p in need(PUBLIC_2).iterdir() if p.is_dir()}
    assert folders == set(VERDICTS)


def test_whole_corpus_drops_nothing_silently() -> None:
    """Checked as one tree: every log-like file is in a run or accounted for."""
    analysis = logan.analyze(need(PUBLIC_2))
    assert analysis.problems == []
    runs = sum(len(v[0]) for v in VERDICTS.values())
    assert len(analysis.results) == runs
    assert not [n for n in analysis.not_analysed if "recognises" in n.reason]
