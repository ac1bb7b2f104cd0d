"""A Kinesis producer in its own process: ``python -m tests.helpers.producer URL ACK_FILE [BATCH]``.

Sends batches of unique records (``body.marker`` = ``<batch>-<index>``) with boto3 until the
endpoint stops answering, and appends ``<marker> <sequence number>`` to ACK_FILE for every
record the service acknowledged, after each answer (so the file lists exactly what was acked).
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from tests.helpers.records import canvas_record
from tests.helpers.service import kinesis_client


def produce(url: str, ack_file: Path, batch_size: int) -> int:
    client = kinesis_client(url)
    batches = 0
    with ack_file.open("a", encoding="utf-8") as acks:
        while True:
            records = []
            for index in range(batch_size):
                record = canvas_record(index)
                record["body"]["marker"] = f"{batches}-{index}"
                records.append({"Data": orjson.dumps(record), "PartitionKey": str(index)})
            try:
                answer = client.put_records(StreamName="live-events", Records=records)
            except (BotoCoreError, ClientError):
                return batches
            for index, result in enumerate(answer["Records"]):
                if "SequenceNumber" in result:
                    acks.write(f"{batches}-{index} {result['SequenceNumber']}\n")
            acks.flush()
            batches += 1


if __name__ == "__main__":
    produce(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 200)
