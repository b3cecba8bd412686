"""Drives Warren's SQS door with Debian's boto3 (1.26: the query protocol, XML answers).

Usage: boto3_query.py ENDPOINT. Prints one line per check ("ok <name>"); any failure raises.
"""
import json
import sys
import time
import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="guest", aws_secret_access_key="guest")


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {error}"
        return error
    raise AssertionError(f"expected {code}, the call succeeded")


url = sqs.create_queue(QueueName="py-q", Attributes={"VisibilityTimeout": "40"}, tags={"team": "py"})["QueueUrl"]
assert url == f"{endpoint}/000000000000/py-q", url
assert sqs.get_queue_url(QueueName="py-q")["QueueUrl"] == url
assert url in sqs.list_queues(QueueNamePrefix="py-")["QueueUrls"]
print("ok queues")

sent = sqs.send_message(QueueUrl=url, MessageBody="body with <xml> & \r\n stuff",
                        MessageAttributes={"s": {"DataType": "String", "StringValue": "v"},
                                           "n": {"DataType": "Number.int", "StringValue": "12"},
                                           "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}})
got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"])
message = got["Messages"][0]
assert message["Body"] == "body with <xml> & \r\n stuff", repr(message["Body"])
assert message["MessageId"] == sent["MessageId"]
assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
assert message["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
assert message["MessageAttributes"]["n"]["DataType"] == "Number.int"
assert message["Attributes"]["ApproximateReceiveCount"] == "1"
sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]
sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
assert "Messages" not in sqs.receive_message(QueueUrl=url)
print("ok messages")

batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2", "DelaySeconds": 1000}])
assert [e["Id"] for e in batch["Successful"]] == ["a"]
assert batch["Failed"][0]["Code"] == "InvalidParameterValue"
received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": received[0]["ReceiptHandle"]}, {"Id": "y", "ReceiptHandle": "bad"}])
assert [e["Id"] for e in deleted["Successful"]] == ["x"] and deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
expect_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", sqs.send_message_batch, QueueUrl=url,
             Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
expect_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", sqs.delete_message_batch, QueueUrl=url,
             Entries=[{"Id": "same", "ReceiptHandle": "r"}, {"Id": "same", "ReceiptHandle": "r"}])
print("ok batches")

attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
assert attributes["VisibilityTimeout"] == "40" and attributes["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:py-q"
sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "1"})
assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {"DelaySeconds": "1"}
expect_error("InvalidAttributeValue", sqs.set_queue_attributes, QueueUrl=url, Attributes={"DelaySeconds": "901"})
sqs.tag_queue(QueueUrl=url, Tags={"env": "ci"})
assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "py", "env": "ci"}
sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "ci"}
print("ok attributes")

# Typed exceptions, as boto3's service model maps the query codes.
try:
    sqs.get_queue_url(QueueName="nope")
    raise AssertionError("expected QueueDoesNotExist")
except sqs.exceptions.QueueDoesNotExist:
    pass
try:
    sqs.create_queue(QueueName="py-q", Attributes={"VisibilityTimeout": "41"})
    raise AssertionError("expected QueueNameExists")
except sqs.exceptions.QueueNameExists:
    pass
sqs.purge_queue(QueueUrl=url)
try:
    sqs.purge_queue(QueueUrl=url)
    raise AssertionError("expected PurgeQueueInProgress")
except sqs.exceptions.PurgeQueueInProgress:
    pass
print("ok errors")

# Long polling: waits, and wakes on a send.
started = time.time()
assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
assert time.time() - started >= 0.95
fifo = sqs.create_queue(QueueName="py.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
for body in ["1", "2", "3"]:
    sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g", MessageDeduplicationId="d" + body)
first = sqs.send_message(QueueUrl=fifo, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d1x")
dup = sqs.send_message(QueueUrl=fifo, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d1x")
assert (dup["MessageId"], dup["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"]), (first, dup)
got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt")["Messages"]
assert [m["Body"] for m in got] == ["1", "2", "3", "1"], [m["Body"] for m in got]
retry = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt")["Messages"]
assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in got]
print("ok fifo")

sqs.add_permission(QueueUrl=url, Label="partner", AWSAccountIds=["111122223333"], Actions=["SendMessage", "ReceiveMessage"])
policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
assert [s["Sid"] for s in policy["Statement"]] == ["partner"], policy
assert policy["Statement"][0]["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"], policy
expect_error("InvalidParameterValue", sqs.add_permission, QueueUrl=url, Label="partner", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
sqs.remove_permission(QueueUrl=url, Label="partner")
assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
expect_error("InvalidParameterValue", sqs.remove_permission, QueueUrl=url, Label="partner")
print("ok permissions")

bad = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="guest", aws_secret_access_key="nope")
try:
    bad.list_queues()
    raise AssertionError("expected SignatureDoesNotMatch")
except ClientError as error:
    assert error.response["Error"]["Code"] == "SignatureDoesNotMatch", error.response
unknown = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKNOBODY", aws_secret_access_key="x")
try:
    unknown.list_queues()
    raise AssertionError("expected InvalidClientTokenId")
except ClientError as error:
    assert error.response["Error"]["Code"] == "InvalidClientTokenId", error.response
print("ok sigv4")

sqs.delete_queue(QueueUrl=url)
try:
    sqs.get_queue_url(QueueName="py-q")
    raise AssertionError("deleted")
except sqs.exceptions.QueueDoesNotExist:
    pass
print("ok done")
