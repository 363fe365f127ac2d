#!/usr/bin/env python3
"""An independent reference of storage format 4's hashes and roots
(docs/storage-format.md), written from the document alone, not from the
Rust code. It prints the four golden vectors of the document; they must
equal those of crates/svm-pages/tests/pages.rs.

Needs the `blake3` package (`pip install blake3`); not part of the test
command, so that the tests need no Python package.
"""
from blake3 import blake3

PAGE_KEY = blake3(b"svm/page/v2").digest()
NODE_KEY = blake3(b"svm/node/v2").digest()
EXT_KEY = blake3(b"svm/ext/v3").digest()
EMPTY = [bytes(32)]
for _ in range(32):
    EMPTY.append(blake3(EMPTY[-1] + EMPTY[-1], key=NODE_KEY).digest())


def page_hash(address, index, content):
    return blake3(content + address + index.to_bytes(4, "big"), key=PAGE_KEY).digest()


def ext_hash(target, t, index):
    prefix = (index >> t) << t
    return blake3(target + bytes([t]) + prefix.to_bytes(4, "big"), key=EXT_KEY).digest()


def root(address, pages):
    """The root over {page index: 4096-byte content}: one hash where two
    non-empty subtrees meet (a branch), one extension hash above the lowest
    branch or page of a subtree that holds just one."""
    leaves = [(i, page_hash(address, i, c)) for i, c in sorted(pages.items()) if any(c)]

    def lowest(items):
        # (height, hash) of the page or branch where the subtree of `items`
        # (two or more pages, or one) first splits.
        if len(items) == 1:
            return 0, items[0][1]
        top = max(a ^ b for (a, _), (b, _) in zip(items, items[1:])).bit_length() - 1
        left = [x for x in items if not (x[0] >> top) & 1]
        right = [x for x in items if (x[0] >> top) & 1]
        return top + 1, blake3(child(top, left) + child(top, right), key=NODE_KEY).digest()

    def child(height, items):
        # A non-empty node at `height`.
        t, target = lowest(items)
        return target if t == height else ext_hash(target, t, items[0][0])

    return child(32, leaves) if leaves else EMPTY[32]


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
