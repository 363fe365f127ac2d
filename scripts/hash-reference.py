#!/usr/bin/env python3
"""An independent reference of storage format 3's hashes and roots
(docs/storage-format.md), written from the document alone, not from the
Rust code. It prints the four golden vectors of the document; they must
equal those of crates/svm-pages/tests/pages.rs.

Needs the `blake3` package (`pip install blake3`); not part of the test
command, so that the tests need no Python package.
"""
from blake3 import blake3

PAGE_KEY = blake3(b"svm/page/v2").digest()
NODE_KEY = blake3(b"svm/node/v2").digest()
EMPTY = [bytes(32)]
for _ in range(32):
    EMPTY.append(blake3(EMPTY[-1] + EMPTY[-1], key=NODE_KEY).digest())


def page_hash(address, index, content):
    return blake3(content + address + index.to_bytes(4, "big"), key=PAGE_KEY).digest()


def root(address, pages):
    """The root of the depth-32 tree over {page index: 4096-byte content}."""
    items = sorted((i, c) for i, c in pages.items() if any(c))

    def node(height, position, items):
        if not items:
            return EMPTY[height]
        if height == 0:
            return page_hash(address, position, items[0][1])
        middle = (2 * position + 1) << (height - 1)
        left = [x for x in items if x[0] < middle]
        right = [x for x in items if x[0] >= middle]
        return blake3(
            node(height - 1, 2 * position, left) + node(height - 1, 2 * position + 1, right),
            key=NODE_KEY,
        ).digest()

    return node(32, 0, items)


def pattern(seed):
    return bytes((j * 31 + seed) % 256 for j in range(4096))


a = bytes([0x11]) * 20
print("empty root        ", EMPTY[32].hex())
print("page hash         ", page_hash(a, 7, pattern(0)).hex())
state = {0: bytes([1]) * 4096, 5: pattern(5), 1 << 31: pattern(9)}
print("root after commit 1", root(a, state).hex())
state[5] = bytes(4096)
state[9] = bytes([2]) * 4096
print("root after commit 2", root(a, state).hex())
