"""The Deepgram/S3 guide's plain-HTTP Lambda handler (seed 000), run against Earshot.

Only what the guide leaves to the reader changes: the bucket, the store endpoint (boto3's
endpoint_url) and the API base URL. Settings come from the environment the test sets.
Also the browser-upload seed (003): generate_presigned_post, then a form upload with requests.
"""
from botocore.client import Config
from typing import Tuple
import urllib.parse
import requests  # the guide imports pip._vendor.requests, the same library
import boto3
import json
import os
import sys
import time

DEEPGRAM_API_KEY = os.environ["EARSHOT_TEST_API_KEY"]
API_BASE = os.environ["EARSHOT_TEST_API"]  # instead of https://api.deepgram.com
BUCKET_NAME = os.environ["EARSHOT_TEST_BUCKET"]
BUCKET_REGION = "us-east-1"
s3_client = boto3.client(
    "s3",
    endpoint_url=os.environ["EARSHOT_TEST_STORE"],  # the one line boto3 needs to reach Earshot
    config=Config(signature_version="s3v4", region_name=BUCKET_REGION, s3={"addressing_style": "path"}),
)


def get_presigned_urls(audio_file_key: str, destination_transcript_key: str, expiration_time) -> Tuple[str, str]:
    get_url = s3_client.generate_presigned_url(
        ClientMethod="get_object",
        Params={"Bucket": BUCKET_NAME, "Key": audio_file_key},
        ExpiresIn=expiration_time,
    )
    put_url = s3_client.generate_presigned_url(
        ClientMethod="put_object",
        Params={
            "Bucket": BUCKET_NAME,
            "Key": destination_transcript_key,
            "ContentType": "application/json",
        },
        ExpiresIn=expiration_time,
    )
    return get_url, put_url


def transcribe_audio(get_url: str, put_url: str):
    source = {"url": get_url}
    headers = {"Authorization": f"Token {DEEPGRAM_API_KEY}", "Content-Type": "application/json"}

    options = {
        "model": "nova",
        "smart_format": "true",
        "callback": put_url,
        "callback_method": "put"
    }
    params = urllib.parse.urlencode(options)
    url = f"{API_BASE}/v1/listen?{params}"
    response = requests.post(url, headers=headers, data=json.dumps(source))
    data = response.json()
    return data


def lambda_handler(event, context):
    audio_file = event["audio_file"]
    dest_file = event["dest_file"]
    expiration_time = 10 * 60  # 10 minutes

    get_url, put_url = get_presigned_urls(
        audio_file_key=audio_file,
        destination_transcript_key=dest_file,
        expiration_time=expiration_time,
    )
    r = transcribe_audio(
        get_url=get_url,
        put_url=put_url,
    )

    return {
        'statusCode': 200,
        'body': r
    }


def browser_upload(key: str, path: str):
    """Seed 003: a presigned POST with conditions, then the form upload a browser would send."""
    post = s3_client.generate_presigned_post(
        BUCKET_NAME, key,
        Fields={"Content-Type": "audio/wav"},
        Conditions=[{"Content-Type": "audio/wav"}, ["content-length-range", 1, 10 * 1024 * 1024]],
        ExpiresIn=3600,
    )
    with open(path, "rb") as audio:
        response = requests.post(post["url"], data=post["fields"], files={"file": (os.path.basename(path), audio)})
    return response.status_code


if __name__ == "__main__":
    audio = sys.argv[1]
    s3_client.put_object(Bucket=BUCKET_NAME, Key="audio/seed.wav", Body=open(audio, "rb"), ContentType="audio/wav")
    result = lambda_handler({"audio_file": "audio/seed.wav", "dest_file": "transcripts/seed.json"}, None)
    request_id = result["body"]["request_id"]
    for _ in range(600):
        try:
            s3_client.head_object(Bucket=BUCKET_NAME, Key="transcripts/seed.json")
            break
        except s3_client.exceptions.ClientError:
            time.sleep(0.2)
    transcript = json.loads(s3_client.get_object(Bucket=BUCKET_NAME, Key="transcripts/seed.json")["Body"].read())
    post_status = browser_upload("uploads/browser.wav", audio)
    uploaded = s3_client.head_object(Bucket=BUCKET_NAME, Key="uploads/browser.wav")
    print(json.dumps({
        "request_id": request_id,
        "transcript_request_id": transcript["metadata"]["request_id"],
        "transcript": transcript["results"]["channels"][0]["alternatives"][0]["transcript"],
        "post_status": post_status,
        "post_content_type": uploaded["ContentType"],
        "post_size": uploaded["ContentLength"],
    }))
