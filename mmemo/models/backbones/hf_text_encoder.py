# Copyright (c) mmemo contributors. All rights reserved.
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule

from mmemo.registry import MODELS

TRANSFORMERS_HINT = 'pip install "transformers>=4.44,<5"'
POOLINGS = ('mean', 'code', 'cls')


def import_transformers():
    """Import the optional ``transformers`` package, or say how to get it."""
    try:
        import transformers
    except ImportError as e:
        raise ImportError(
            'HFTextEncoder needs the optional `transformers` package: '
            f'{TRANSFORMERS_HINT}') from e
    return transformers


def check_local_model_dir(model_dir: str) -> str:
    """Refuse anything but a local Hugging Face model folder.

    Args:
        model_dir (str): The folder (``~`` is expanded).

    Returns:
        str: The expanded path.
    """
    path = osp.expanduser(str(model_dir))
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'{model_dir!r} is not a local folder. mmemo never downloads '
            'models: download the model first (e.g. `huggingface-cli '
            'download roberta-base --local-dir checkpoints/roberta-base`) '
            'and pass its folder')
    if not osp.isfile(osp.join(path, 'config.json')):
        raise FileNotFoundError(
            f'{model_dir}: no config.json, not a Hugging Face model folder '
            '(save one with `save_pretrained` or download a model into it)')
    return path


@MODELS.register_module()
class HFTextEncoder(BaseModule):
    """A Hugging Face text encoder (e.g. ``roberta-base``) that turns texts
    into one pooled vector each: the text stream of MAVEN.

    The model and its tokenizer are read from a **local** folder
    (``AutoModel``/``AutoTokenizer.from_pretrained(model_dir,
    local_files_only=True)``); nothing is ever downloaded. ``transformers``
    is optional and imported only here.

    Pooling of the last hidden state ``[N, L, D]``:

    - ``'mean'``: mean over the real tokens (attention mask), the default;
    - ``'code'``: MAVEN's ``embeddings.py``, the plain mean over all ``L``
      positions, padding included, so a text's vector depends on how much
      it was padded (the longest text of its batch with
      ``padding='longest'``, always ``max_length`` with
      ``padding='max_length'``);
    - ``'cls'``: the first token (``<s>``/``[CLS]``).

    The pretrained weights come from the folder: :meth:`init_weights` keeps
    them (a Runner's ``init_weights`` would otherwise reach the Hugging Face
    model's own, which re-draws every module not flagged as loaded).

    Args:
        model_dir (str): Local folder with ``config.json``, the weights and
            the tokenizer files.
        pooling (str): ``'mean'``, ``'code'`` or ``'cls'``. Defaults to
            ``'mean'``.
        max_length (int): Texts are truncated to this many tokens.
            Defaults to 512 (RoBERTa's limit).
        padding (str): ``'longest'`` (per batch) or ``'max_length'``.
            Matters only for ``'code'`` pooling. Defaults to ``'longest'``.
        frozen (bool): Keep the model in eval mode without gradients.
            Defaults to True.
        init_cfg (dict, optional): Unused; the weights come from
            ``model_dir``.
    """

    def __init__(self,
                 model_dir: str,
                 pooling: str = 'mean',
                 max_length: int = 512,
                 padding: str = 'longest',
                 frozen: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        assert pooling in POOLINGS, f'pooling must be one of {POOLINGS}'
        assert padding in ('longest', 'max_length'), padding
        assert max_length > 0, max_length
        transformers = import_transformers()
        self.model_dir = check_local_model_dir(model_dir)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(
            self.model_dir, local_files_only=True)
        self.model = transformers.AutoModel.from_pretrained(
            self.model_dir, local_files_only=True)
        self.pooling = pooling
        self.max_length = max_length
        self.padding = padding
        self.frozen = frozen
        self.out_channels = int(self.model.config.hidden_size)
        if frozen:
            self.model.requires_grad_(False)
            self.model.eval()

    def init_weights(self) -> None:
        """Keep the pretrained weights read from ``model_dir``."""
        self._is_init = True

    def train(self, mode: bool = True) -> 'HFTextEncoder':
        super().train(mode)
        if self.frozen:
            self.model.eval()
        return self

    def tokenize(self, texts: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Tokenise texts into ``input_ids``/``attention_mask`` ``[N, L]``.

        Args:
            texts (Sequence[str]): ``N`` texts.

        Returns:
            dict: ``input_ids`` and ``attention_mask``, LongTensors
            ``[N, L]`` on the model's device.
        """
        batch = self.tokenizer(
            list(texts),
            padding=self.padding,
            truncation=True,
            max_length=self.max_length,
            return_tensors='pt')
        device = next(self.model.parameters()).device
        return {
            k: batch[k].to(device)
            for k in ('input_ids', 'attention_mask')
        }

    def pool(self, hidden: torch.Tensor,
             attention_mask: torch.Tensor) -> torch.Tensor:
        """Pool token states ``[N, L, D]`` into ``[N, D]``."""
        if self.pooling == 'cls':
            return hidden[:, 0]  # [N, D]
        if self.pooling == 'code':
            return hidden.mean(1)  # [N, D], padding included
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # [N, L, 1]
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)  # [N, D]

    def forward(self,
                texts: Union[Sequence[str], torch.Tensor],
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode texts into one vector each.

        Args:
            texts (Sequence[str] | Tensor): ``N`` texts, or their token ids
                ``[N, L]`` (e.g. from :meth:`tokenize`).
            attention_mask (Tensor, optional): ``[N, L]`` with token ids;
                defaults to the positions that are not the tokenizer's pad
                token.

        Returns:
            Tensor: ``[N, D]`` pooled features (``D = out_channels``).
        """
        if isinstance(texts, torch.Tensor):
            input_ids = texts.to(next(self.model.parameters()).device)
            if attention_mask is None:
                pad = self.tokenizer.pad_token_id
                attention_mask = torch.ones_like(input_ids) if pad is None \
                    else (input_ids != pad).long()
            attention_mask = attention_mask.to(input_ids.device)
        else:
            assert attention_mask is None, 'a mask goes with token ids'
            if isinstance(texts, str):
                raise TypeError('HFTextEncoder takes a list of texts')
            if len(texts) == 0:
                return self.model.get_input_embeddings().weight.new_zeros(
                    (0, self.out_channels))
            batch = self.tokenize(texts)
            input_ids = batch['input_ids']
            attention_mask = batch['attention_mask']
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.frozen):
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask).last_hidden_state  # [N, L, D]
            return self.pool(hidden, attention_mask)  # [N, D]
