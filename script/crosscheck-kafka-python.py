#!/usr/bin/env python3
"""Checks LocalKafka's protocol encodings against kafka-python's independent codecs.

Reads lines `<MessageName> <version> <hex>` on stdin (written by the KafkaWire test
`ProtocolCrossCheckTests`), decodes each with kafka-python 3 and encodes the result again. The
bytes must come back unchanged: kafka-python read every field where LocalKafka wrote it.
Exit status 0 when all agree, 1 listing the ones that do not, 2 when kafka-python is missing.
"""

import sys

try:
    import kafka.protocol.admin  # noqa: F401  (importing registers the message classes)
    import kafka.protocol.consumer  # noqa: F401
    import kafka.protocol.metadata  # noqa: F401
    import kafka.protocol.producer  # noqa: F401
    from kafka.protocol.api_message import ApiMessage
except ImportError as error:
    print(f"kafka-python is not available: {error}", file=sys.stderr)
    sys.exit(2)


def message_classes():
    pending, found = [ApiMessage], {}
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if getattr(subclass, "_class_version", None) is None:
                found.setdefault(subclass.__name__, subclass)
    return found


def main():
    classes = message_classes()
    failures, checked = [], 0
    for line in sys.stdin:
        if not line.strip():
            continue
        name, version, *rest = line.split()  # an empty body has no hex at all
        encoded = rest[0] if rest else ""
        version, data = int(version), bytes.fromhex(encoded)
        checked += 1
        try:
            decoded = classes[name].decode(data, version=version)
            decoded._header = None  # decode() leaves the slot unset and encode() reads it
            again = bytes(decoded.encode(version=version))
        except Exception as error:  # report every kind of failure, keep checking the rest
            failures.append(f"{name} v{version}: kafka-python could not decode: {error!r}")
            continue
        if again != data:
            failures.append(f"{name} v{version}: re-encoded differently\n  ours   {data.hex()}\n  theirs {again.hex()}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{checked - len(failures)} of {checked} encodings agree with kafka-python", file=sys.stderr)
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
