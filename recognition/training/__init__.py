"""Offline training of the engine's two networks; nothing here runs in the product.

`detector/` trains the Mask R-CNN plate detector, `reader/` the EasyOCR-hosted PP-OCR recogniser:
each has `train.py` (`get_args_parser()` + `main(args)`), its epoch loop in `loop.py` and its
training data; `fit_reader_check.py` fits the reader's check for a detector and reader pair.
"""
