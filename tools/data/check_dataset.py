# Copyright (c) mmemo contributors. All rights reserved.
"""Run every sample of a config's datasets through its pipeline once.

    python tools/data/check_dataset.py CONFIG [--split train val test]
        [--workers N] [--out-dir DIR] [--restart] [--cfg-options ...]

Builds each split's dataset as the config does (but with
``on_bad_sample='skip'``, not in test mode and without an ``exclude_file``,
so that every sample is looked at), loads each sample with the split's own
pipeline in ``--workers`` processes (a progress bar shows it) and writes to
``--out-dir`` (default ``work_dirs/check_dataset/<config name>``):

- ``samples.jsonl``: one record per file as it is checked (streams,
  durations, audio padded / trimmed by the length policy, corrupt packets,
  faces found, the problem if any). A run that is stopped resumes from it;
  ``--restart`` starts over.
- ``report.json`` / ``report.csv``: every record, and per split the counts,
  the problems and the distribution of the audio/video length mismatch.
- ``exclude.txt``: the unusable samples, one per line (path relative to
  ``data_root``, ``# problem``). Pass it to the datasets as
  ``exclude_file=...`` (e.g. ``--cfg-options
  test_dataloader.dataset.exclude_file=.../exclude.txt``) and the test set
  is fixed up front: a test-mode dataset never drops a sample by itself.

Samples the dataset leaves out by design (CREMA-D's known broken clips)
are listed with the reason; files with problems found while the dataset is
built (missing files, git-lfs pointers, unparsable names) are bad samples
like those that fail to load.
"""
import argparse
import copy
import csv
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import Config, DictAction

SPLITS = ('train', 'val', 'test')
FIELDS = ('split', 'status', 'file', 'audio_file', 'problem', 'video_codec',
          'fps', 'frames', 'video_duration', 'audio_codec', 'audio_rate',
          'audio_channels', 'audio_duration', 'audio_padded',
          'audio_trimmed', 'audio_corrupt_packets', 'audio_concealed_packets',
          'video_corrupt_packets', 'video_concealed_packets',
          'video_filled_frames', 'faces_found', 'face_frames', 'warnings')
#: What a record copies from the sample's media_report.
REPORT_KEYS = FIELDS[FIELDS.index('audio_padded'):FIELDS.index('warnings')]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='check every sample of a config\'s datasets once and '
        'write a report and an exclusion list')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--split',
        nargs='+',
        choices=SPLITS,
        default=list(SPLITS),
        help='splits to check (those the config has)')
    parser.add_argument(
        '--workers', type=int, default=2, help='loading processes')
    parser.add_argument(
        '--out-dir',
        help='where the report goes (default: '
        'work_dirs/check_dataset/<config name>)')
    parser.add_argument(
        '--restart',
        action='store_true',
        help='ignore the records of an earlier run in --out-dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args(argv)


# ------------------------------------------------------------- datasets
def _dataset_cfg(cfg: Config, split: str) -> Optional[dict]:
    """A copy of the split's (unwrapped) dataset config, or None."""
    from mmemo.utils.config import get_dataset_cfg
    dataset = get_dataset_cfg(cfg, split, fallback=False)
    return None if dataset is None else copy.deepcopy(dataset)


def build_for_check(dataset_cfg: dict):
    """The split's dataset with every sample kept for checking."""
    from mmemo.datasets.errors import SkipsBadSamples
    from mmemo.registry import DATASETS
    dataset_cfg = dict(dataset_cfg, test_mode=False)
    dataset_cfg.pop('exclude_file', None)
    cls = DATASETS.get(dataset_cfg['type'])
    if cls is not None and issubclass(cls, SkipsBadSamples):
        dataset_cfg['on_bad_sample'] = 'skip'
    dataset = DATASETS.build(dataset_cfg)
    if isinstance(dataset, SkipsBadSamples):
        dataset.on_bad_sample = 'error'  # loading reports, never replaces
    return dataset


def _files(info: dict) -> tuple:
    return (info.get('filename') or info.get('frame_dir')
            or info.get('audio_path'), info.get('audio_path'))


class _CheckSamples:
    """``[i]`` loads the i-th picked sample and returns its record."""

    def __init__(self, dataset, indices: List[int], split: str) -> None:
        self.dataset, self.indices, self.split = dataset, indices, split

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        from mmemo.apis.media_warnings import media_warnings
        from mmemo.datasets.errors import BadSampleError
        info = self.dataset.get_data_info(self.indices[i])
        file, audio_file = _files(info)
        record = dict(split=self.split, file=file, audio_file=audio_file)
        try:
            data = self.dataset.pipeline(copy.deepcopy(info))
        except BadSampleError as e:
            return dict(record, status='bad', problem=e.problem,
                        problem_file=e.path)
        except Exception as e:  # noqa: B902  (any failure is reported)
            return dict(record, status='bad',
                        problem=f'{type(e).__name__}: {e}')
        sample = data.get('data_samples') if isinstance(data, dict) else None
        meta = getattr(sample, 'metainfo', {}) or {}
        report = meta.get('media_report') or {}
        video, audio = report.get('video') or {}, report.get('audio') or {}
        record.update(
            status='ok',
            video_codec=video.get('codec'),
            fps=video.get('fps'),
            frames=video.get('frames'),
            video_duration=video.get('duration'),
            audio_codec=audio.get('codec'),
            audio_rate=audio.get('rate'),
            audio_channels=audio.get('channels'),
            audio_duration=audio.get('duration'),
            warnings=media_warnings(report))
        for key in REPORT_KEYS:
            record[key] = report.get(key)
        return record


def _first(batch: list) -> dict:
    return batch[0]


def check_split(dataset, split: str, done: Dict[tuple, dict], workers: int,
                sink) -> List[dict]:
    """Check one split's samples (one per file); return all records."""
    from mmengine.utils import ProgressBar
    from torch.utils.data import DataLoader
    records = []
    for path, reason in getattr(dataset, 'left_out', []):
        records.append(
            dict(split=split, status='left out', file=path, problem=reason))
    for error in getattr(dataset, 'bad_samples', []):
        records.append(
            dict(split=split, status='bad', file=error.path,
                 problem=error.problem))
    picked, seen = [], set()
    for index in range(len(dataset)):
        key = _files(dataset.get_data_info(index))
        if key in seen:  # windows of one video: the file once
            continue
        seen.add(key)
        if (split, ) + key in done:
            records.append(done[(split, ) + key])
        else:
            picked.append(index)
    built = len(records) - (len(seen) - len(picked))
    print(f'{split}: {len(seen)} files to load ({len(seen) - len(picked)} '
          f'checked by an earlier run), {built} left out or bad while '
          'building the dataset')
    if picked:
        loader = DataLoader(
            _CheckSamples(dataset, picked, split),
            batch_size=1,
            num_workers=workers,
            collate_fn=_first)
        bar = ProgressBar(len(picked))
        for record in loader:
            sink(record)
            records.append(record)
            bar.update()
        sys.stdout.write('\n')
    return records


# ---------------------------------------------------------------- report
def _relative(path: str, root: str) -> str:
    if root and osp.abspath(path).startswith(osp.abspath(root) + os.sep):
        return osp.relpath(osp.abspath(path), osp.abspath(root))
    return path


def _spread(values: list) -> Optional[dict]:
    if not values:
        return None
    values = np.asarray(values, np.float64)
    return dict(
        count=int(len(values)),
        min=float(values.min()),
        median=float(np.median(values)),
        p95=float(np.percentile(values, 95)),
        max=float(values.max()))


def split_summary(records: List[dict]) -> dict:
    """Counts, problems and the length-mismatch distribution of a split."""
    status = Counter(r['status'] for r in records)
    ok = [r for r in records if r['status'] == 'ok']
    durations = [(r['video_duration'] or 0) - (r['audio_duration'] or 0)
                 for r in ok if r.get('audio_duration') is not None
                 and r.get('video_duration') is not None]
    return dict(
        files=len(records),
        ok=status['ok'],
        bad=status['bad'],
        left_out=status['left out'],
        problems=Counter(r['problem'] for r in records
                         if r['status'] != 'ok').most_common(),
        video_minus_audio_s=_spread(durations),
        audio_padded_s=_spread(
            [r['audio_padded'] for r in ok if r.get('audio_padded')]),
        audio_trimmed_s=_spread(
            [r['audio_trimmed'] for r in ok if r.get('audio_trimmed')]),
        corrupt_packets=sum((r.get('audio_corrupt_packets') or 0) +
                            (r.get('video_corrupt_packets') or 0)
                            for r in ok),
        no_face=sum(1 for r in ok
                    if r.get('face_frames') and not r.get('faces_found')))


def write_report(out_dir: str, config: str, records: List[dict],
                 roots: Dict[str, str]) -> dict:
    from mmemo.utils import strict_json
    splits = sorted({r['split'] for r in records}, key=SPLITS.index)
    report = dict(
        config=config,
        splits={
            s: split_summary([r for r in records if r['split'] == s])
            for s in splits
        },
        samples=records)
    with open(osp.join(out_dir, 'report.json'), 'w') as f:
        strict_json.dump(report, f, indent=1)
    with open(osp.join(out_dir, 'report.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, FIELDS, extrasaction='ignore')
        writer.writeheader()
        for r in records:
            writer.writerow(
                dict(r, warnings='; '.join(r.get('warnings') or ())))
    lines, listed = [
        '# samples tools/data/check_dataset.py found unusable; pass this '
        'file as the datasets\' exclude_file',
        f'# config: {config}'
    ], set()
    for r in records:
        if r['status'] != 'bad':
            continue
        entry = _relative(r['file'], roots.get(r['split'], ''))
        if entry in listed:
            continue
        listed.add(entry)
        problem = ' '.join(str(r['problem']).split())
        lines.append(f'{entry}  # {r["split"]}: {problem}')
    with open(osp.join(out_dir, 'exclude.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return report


def _load_done(path: str) -> Dict[tuple, dict]:
    done = {}
    if osp.isfile(path):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut off when the run was stopped
                done[(record['split'], record['file'],
                      record.get('audio_file'))] = record
    return done


def main(argv=None) -> dict:
    args = parse_args(argv)
    import mmemo  # noqa: F401  (compat shims, registries)
    from mmengine.registry import init_default_scope

    from mmemo.utils import strict_json
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmemo'))
    name = osp.splitext(osp.basename(args.config))[0]
    out_dir = args.out_dir or osp.join('work_dirs', 'check_dataset', name)
    os.makedirs(out_dir, exist_ok=True)
    jsonl = osp.join(out_dir, 'samples.jsonl')
    if args.restart and osp.exists(jsonl):
        os.remove(jsonl)
    done = _load_done(jsonl)
    records, roots, checked = [], {}, set()
    with open(jsonl, 'a') as sink_file:

        def sink(record: dict) -> None:
            sink_file.write(strict_json.dumps(record) + '\n')
            sink_file.flush()

        for split in args.split:
            dataset_cfg = _dataset_cfg(cfg, split)
            if dataset_cfg is None:
                continue
            key = json.dumps(
                {k: v for k, v in dataset_cfg.items() if k != 'pipeline'},
                sort_keys=True, default=str) + split
            if key in checked:
                continue
            checked.add(key)
            dataset = build_for_check(dataset_cfg)
            roots[split] = getattr(dataset, 'data_root', '') or ''
            records += check_split(dataset, split, done, args.workers, sink)
    report = write_report(out_dir, args.config, records, roots)
    for split, summary in report['splits'].items():
        print(f'{split}: {summary["ok"]} ok, {summary["bad"]} bad, '
              f'{summary["left_out"]} left out of {summary["files"]} files')
        for key in ('video_minus_audio_s', 'audio_padded_s',
                    'audio_trimmed_s'):
            if summary[key]:
                spread = ', '.join(f'{k} {v:.3f}' if k != 'count' else
                                   f'{v} files'
                                   for k, v in summary[key].items())
                print(f'  {key}: {spread}')
    for r in records:
        if r['status'] != 'ok':
            print(f'  {r["status"]}: {r["file"]}: {r["problem"]}')
    print(f'report: {osp.join(out_dir, "report.json")}, exclusion list: '
          f'{osp.join(out_dir, "exclude.txt")}')
    return report


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
