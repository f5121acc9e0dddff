"""The plate reader's network in EasyOCR's custom-model layout (VGG features, BiLSTM, CTC head).

EasyOCR imports this file by name from its `user_network_directory`, so it must stay
self-contained (torch only) and keep EasyOCR's constructor and forward signatures. The export
copies it next to the weights as `platereader.py`.

Sized for CPU inference on 32 x 160 grey line images: four VGG stages (16-32-64-128 channels)
reduce the height to 1 and the width by 4, giving 40 CTC time steps, enough for 10 characters
with repeats.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(
    cin: int, cout: int, kernel: int | tuple[int, int] = 3, padding: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, 1, padding, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class VGGFeatures(nn.Module):
    def __init__(self, input_channel: int, output_channel: int) -> None:
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.ConvNet = nn.Sequential(
            _conv(input_channel, c[0]),
            nn.MaxPool2d(2, 2),  # 16 x 80
            _conv(c[0], c[1]),
            nn.MaxPool2d(2, 2),  # 8 x 40
            _conv(c[1], c[2]),
            _conv(c[2], c[2]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 4 x 40
            _conv(c[2], c[3]),
            _conv(c[3], c[3]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 2 x 40
            _conv(c[3], c[3], kernel=(2, 1), padding=0),  # 1 x 40
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.ConvNet(x)
        return out


class BidirectionalLSTM(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        recurrent, _ = self.rnn(x)
        out: torch.Tensor = self.linear(recurrent)
        return out


class Model(nn.Module):
    def __init__(
        self, input_channel: int, output_channel: int, hidden_size: int, num_class: int
    ) -> None:
        super().__init__()
        self.FeatureExtraction = VGGFeatures(input_channel, output_channel)
        self.AdaptiveAvgPool = nn.AdaptiveAvgPool2d((None, 1))
        self.SequenceModeling = nn.Sequential(
            BidirectionalLSTM(output_channel, hidden_size, hidden_size),
            BidirectionalLSTM(hidden_size, hidden_size, hidden_size),
        )
        # A direct path from the visual features: CTC learns the alignment through it quickly,
        # before the BiLSTM has learnt anything. Without it training sat on a loss plateau
        # (about 2.9) for 1,300 steps; with it the loss fell below 2 within 200 steps.
        self.Shortcut = nn.Linear(output_channel, hidden_size)
        self.Prediction = nn.Linear(hidden_size, num_class)

    def forward(self, input: torch.Tensor, text: torch.Tensor | None = None) -> torch.Tensor:  # noqa: A002
        """Logits (batch, time, classes); `text` is unused (EasyOCR's signature)."""
        features = self.FeatureExtraction(input)
        features = self.AdaptiveAvgPool(features.permute(0, 3, 1, 2)).squeeze(3)
        context = self.SequenceModeling(features) + self.Shortcut(features)
        out: torch.Tensor = self.Prediction(context.contiguous())
        return out
