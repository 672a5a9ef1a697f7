"""SMS backends: the log (default, for development and tests) and Alibaba Cloud SMS (dysmsapi 2017-05-25).

A backend has one method, `send(*, phone, kind, title, body, params, out_id)`, which returns when the
provider has accepted the message and raises SmsError otherwise. Settings come from the app config,
falling back to the environment:

QZT_SMS_BACKEND                   log (default) or aliyun
ALIBABA_CLOUD_ACCESS_KEY_ID       AccessKey of a RAM user allowed to call dysms:SendSms
ALIBABA_CLOUD_ACCESS_KEY_SECRET
QZT_SMS_SIGN_NAME                 the approved signature (签名), e.g. 佛山企质通
QZT_SMS_TEMPLATE_<KIND>           the approved template code per notice kind; the kind upper-cased with
                                  every other character than letters and digits as "_"
                                  (kind "deadline-near" -> QZT_SMS_TEMPLATE_DEADLINE_NEAR)
QZT_SMS_ENDPOINT                  default dysmsapi.aliyuncs.com (host, or host:port)
QZT_SMS_PROTOCOL                  default https
"""

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from alibabacloud_dysmsapi20170525 import models as dysms_models
from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_tea_openapi import models as openapi_models
from flask import current_app, has_app_context

from qzt.rules.phone import mask

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
TEMPLATE_PREFIX = "QZT_SMS_TEMPLATE_"


class SmsError(Exception):
    """The provider did not accept the message (or could not be reached)."""


class SmsConfigError(Exception):
    """The SMS settings are incomplete or unknown."""


def template_setting(kind: str) -> str:
    """The setting that holds the template code of a notice kind."""
    return TEMPLATE_PREFIX + re.sub(r"[^A-Z0-9]", "_", kind.upper())


@dataclass(frozen=True)
class SentSms:
    phone: str
    kind: str
    title: str
    body: str
    params: dict
    out_id: str


@dataclass
class LogBackend:
    """Writes each message to the app logger instead of sending it; `sent` keeps them for tests."""

    sent: list[SentSms] = field(default_factory=list)

    def send(self, *, phone: str, kind: str, title: str, body: str, params: dict, out_id: str) -> None:
        logger = current_app.logger if has_app_context() else logging.getLogger(__name__)
        logger.info("SMS (log backend) #%s to %s [%s] %s: %s", out_id, mask(phone), kind, title, body)
        self.sent.append(SentSms(phone, kind, title, body, dict(params), out_id))


class AliyunBackend:
    """Alibaba Cloud SMS through its official SDK: SendSms with the template of the notice's kind."""

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = DEFAULT_ENDPOINT,
        protocol: str = "https",
        connect_timeout_ms: int = 5_000,
        read_timeout_ms: int = 10_000,
    ):
        self.sign_name = sign_name
        self.templates = dict(templates)  # setting name (QZT_SMS_TEMPLATE_…) -> template code
        self.client = DysmsClient(
            openapi_models.Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=endpoint,
                protocol=protocol,
                connect_timeout=connect_timeout_ms,
                read_timeout=read_timeout_ms,
            )
        )

    def send(self, *, phone: str, kind: str, title: str, body: str, params: dict, out_id: str) -> None:
        template = self.templates.get(template_setting(kind))
        if not template:
            raise SmsError(f"no SMS template configured for kind {kind!r} ({template_setting(kind)})")
        request = dysms_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.sign_name,
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=out_id,  # echoed in delivery receipts; lets the provider side spot a repeat
        )
        try:
            response = self.client.send_sms(request)
        except Exception as e:  # the SDK raises its own hierarchy, network errors wrapped or not
            raise SmsError(f"SendSms failed: {type(e).__name__}: {e}") from e
        result = response.body
        if result is None or result.code != "OK":
            code, message = (result.code, result.message) if result else (None, "empty response")
            request_id = result.request_id if result else None
            raise SmsError(f"SendSms refused: {code} {message} (RequestId {request_id})")


def _setting(config: Mapping, name: str, default: str = "") -> str:
    value = config.get(name) or os.environ.get(name)
    return str(value).strip() if value else default


def is_log_backend(config: Mapping) -> bool:
    """Whether notices only go to the log (development and demos): then a one-time code may be shown."""
    return _setting(config, "QZT_SMS_BACKEND", "log").lower() == "log"


def backend_from_config(config: Mapping):
    """The backend the settings ask for: QZT_SMS_BACKEND=log (default) or aliyun."""
    kind = _setting(config, "QZT_SMS_BACKEND", "log").lower()
    if kind == "log":
        return LogBackend()
    if kind != "aliyun":
        raise SmsConfigError(f"QZT_SMS_BACKEND={kind!r}: expected log or aliyun")
    required = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "QZT_SMS_SIGN_NAME")
    missing = [name for name in required if not _setting(config, name)]
    if missing:
        raise SmsConfigError("QZT_SMS_BACKEND=aliyun needs " + ", ".join(missing))
    names = {n for n in (*os.environ, *config) if isinstance(n, str) and n.startswith(TEMPLATE_PREFIX)}
    return AliyunBackend(
        access_key_id=_setting(config, "ALIBABA_CLOUD_ACCESS_KEY_ID"),
        access_key_secret=_setting(config, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        sign_name=_setting(config, "QZT_SMS_SIGN_NAME"),
        templates={name: _setting(config, name) for name in names if _setting(config, name)},
        endpoint=_setting(config, "QZT_SMS_ENDPOINT", DEFAULT_ENDPOINT),
        protocol=_setting(config, "QZT_SMS_PROTOCOL", "https").lower(),
    )
