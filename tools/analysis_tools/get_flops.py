# Copyright (c) mmemo contributors. All rights reserved.
"""FLOPs and parameters of a model on one real input.

    python tools/analysis_tools/get_flops.py configs/avtca_ravdess.py \
        --video clip.mp4 [--audio clip.wav]

The config's test pipeline prepares the input (as ``mmemo.apis.inference_av``
does: decoding, face crop, audio features), then the model's forward (both
encoders and the fusion head; without the per-modality extra passes of
``test_cfg.modality_scores``) runs under :class:`torch.utils.flop_counter.
FlopCounterMode`, which counts matrix multiplications and convolutions
(2 FLOPs per multiply-add). The data preprocessor and the pipeline are not
counted. The model-zoo metafiles' ``FLOPs`` are this number for one test
clip (configs that read pre-extracted features have none).
"""
import argparse

from torch.utils.flop_counter import FlopCounterMode

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.apis import inference_av, init_model
from mmemo.utils import strict_json


def parse_args():
    parser = argparse.ArgumentParser(
        description='FLOPs of a model on one real input')
    parser.add_argument('config', help='config file')
    parser.add_argument('--video', required=True, help='media file')
    parser.add_argument('--audio', help='separate audio file')
    parser.add_argument('--json', action='store_true', help='print JSON')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def count_flops(config: str, video: str, audio: str = None) -> dict:
    """Count the FLOPs of one forward pass of ``config``'s model.

    Args:
        config (str): Config file.
        video (str): Media file the test pipeline reads.
        audio (str, optional): Separate audio file.

    Returns:
        dict: ``flops`` (int), ``params`` (int), ``gflops`` (float) and
        ``window`` (the seconds of the file the clip covers).
    """
    model = init_model(
        config, cfg_options={'model.test_cfg.modality_scores': False})
    counter = FlopCounterMode(display=False)
    predict = model.predict

    def counted(*args, **kwargs):
        with counter:
            return predict(*args, **kwargs)

    model.predict = counted
    result = inference_av(model, video, audio)
    flops = counter.get_total_flops()
    params = sum(p.numel() for p in model.parameters())
    return dict(
        flops=flops,
        gflops=round(flops / 1e9, 2),
        params=params,
        window=result.get('window'))


def main():
    args = parse_args()
    stats = count_flops(args.config, args.video, args.audio)
    if args.json:
        print(strict_json.dumps(stats))
    else:
        print(f'{args.config}: {stats["gflops"]} GFLOPs per clip '
              f'({stats["flops"]} FLOPs), {stats["params"]:,} parameters')


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
