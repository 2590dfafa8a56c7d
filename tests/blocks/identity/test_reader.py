"""The chip-reader adapter's contract (``identity.reader``), for every driver: the development
reader itself and the same reader behind the localhost HTTP bridge a kiosk page calls.

Actors: Nguyễn Văn An's card on the reader of the clinic's kiosk; the kiosk page (origin
``http://kiosk.test``); a page of another origin that must not use the bridge."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date

import pytest
from django.utils import timezone

from dancu.blocks.identity.chip import ChipData, TrustStore, passive_authentication
from dancu.blocks.identity.reader import (
    AccessKey,
    BridgeClient,
    ChipReader,
    ReaderError,
    SimulatedReader,
    serve_bridge,
)
from tests.blocks.identity.conftest import AN_BORN, AN_CARD_EXPIRES, AN_ID

ORIGIN = "http://kiosk.test"
AN_DOCUMENT = AN_ID[3:]  # the TD1 document number of the card (last 9 digits)
AN_MRZ_KEY = AccessKey.from_mrz(AN_DOCUMENT, AN_BORN, AN_CARD_EXPIRES)
AN_CAN = AccessKey.from_can(AN_ID[-6:])


@pytest.fixture
def device() -> SimulatedReader:
    return SimulatedReader()


@pytest.fixture
def bridge(device: SimulatedReader) -> Iterator[str]:
    server = serve_bridge(device, origin=ORIGIN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["simulated", "bridge"])
def reader(request: pytest.FixtureRequest, device: SimulatedReader) -> ChipReader:
    if request.param == "simulated":
        return device
    return BridgeClient(request.getfixturevalue("bridge"), origin=ORIGIN)


def test_the_cards_mrz_key_opens_the_chip_and_the_files_pass_passive_authentication(
    reader: ChipReader, device: SimulatedReader, an_chip: ChipData, trusted: TrustStore
) -> None:
    device.place(an_chip)
    read = reader.read(AN_MRZ_KEY)
    assert read.access == "bac"
    assert set(read.files) == {"com", "dg1", "dg2", "dg13", "sod"}
    report = passive_authentication(ChipData.from_dict(read.files), trusted, at=timezone.now())
    assert report.ok, report.failures
    assert report.dg13 is not None and report.dg13.id_number == AN_ID


def test_the_card_access_number_opens_the_chip_by_pace(
    reader: ChipReader, device: SimulatedReader, an_chip: ChipData
) -> None:
    device.place(an_chip)
    read = reader.read(AN_CAN, ("dg1", "dg13", "sod"))
    assert read.access == "pace" and set(read.files) == {"dg1", "dg13", "sod"}


@pytest.mark.parametrize(
    "key",
    [
        AccessKey.from_mrz(AN_DOCUMENT, date(1985, 3, 3), AN_CARD_EXPIRES),  # another birth date
        AccessKey.from_mrz("085012346", AN_BORN, AN_CARD_EXPIRES),  # another document
        AccessKey.from_can("999999"),
    ],
)
def test_a_wrong_key_is_refused_as_the_chip_refuses_it(
    reader: ChipReader, device: SimulatedReader, an_chip: ChipData, key: AccessKey
) -> None:
    device.place(an_chip)
    with pytest.raises(ReaderError) as refused:
        reader.read(key)
    assert refused.value.rule == "access_denied"


def test_no_card_and_a_malformed_key_are_told_apart(
    reader: ChipReader, device: SimulatedReader, an_chip: ChipData
) -> None:
    with pytest.raises(ReaderError) as empty:
        reader.read(AN_CAN)
    assert empty.value.rule == "no_card"
    device.place(an_chip)
    with pytest.raises(ReaderError) as malformed:
        reader.read(AccessKey.from_can("12ab"))
    assert malformed.value.rule == "malformed"
    device.remove()
    with pytest.raises(ReaderError, match="no card"):
        reader.read(AN_CAN)


def test_a_bridge_that_does_not_answer_is_unavailable() -> None:
    with pytest.raises(ReaderError) as down:
        BridgeClient("http://127.0.0.1:9", timeout=1).read(AN_CAN)
    assert down.value.rule == "unavailable"


def _post(url: str, body: bytes, origin: str | None) -> tuple[int, dict[str, str]]:
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(f"{url}/read", data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_the_bridge_answers_the_kiosk_page_and_no_other_origin(
    bridge: str, device: SimulatedReader, an_chip: ChipData
) -> None:
    device.place(an_chip)
    body = json.dumps(AN_CAN.as_json()).encode()
    status, headers = _post(bridge, body, ORIGIN)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Cache-Control"] == "no-store"
    status, headers = _post(bridge, body, "http://evil.test")
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    origin = {"Origin": ORIGIN}
    preflight = urllib.request.Request(f"{bridge}/read", method="OPTIONS", headers=origin)  # noqa: S310
    with urllib.request.urlopen(preflight, timeout=5) as response:  # noqa: S310
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert _post(bridge, b"{not json", ORIGIN)[0] == 400


@pytest.mark.django_db
def test_the_demo_bridge_command_puts_a_registry_citizens_genuine_chip_on_the_reader(
    residents: dict[str, object], settings: object, tmp_path: object
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from dancu.blocks.identity.management.commands.chip_reader_bridge import demo_reader
    from dancu.blocks.identity.trust import synthetic_pki

    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]
    read = demo_reader(AN_ID).read(AN_CAN)
    store = TrustStore([synthetic_pki().csca.certificate])
    report = passive_authentication(ChipData.from_dict(read.files), store, at=timezone.now())
    assert report.ok, report.failures
    assert report.dg13 is not None and (report.dg13.id_number, report.dg13.expiry_date) == (
        AN_ID,
        AN_CARD_EXPIRES,
    )
    settings.DEMO = False  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="DANCU_DEMO"):
        call_command("chip_reader_bridge", AN_ID, "--origin", ORIGIN)


def _raw(port: int, headers: dict[str, str], body: bytes = b"") -> int:
    """A POST /read with exactly these headers (http.client adds none we did not ask for but
    Accept-Encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/read", skip_host=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_page_on_another_host_name_or_without_an_origin_is_refused(
    bridge: str, device: SimulatedReader, an_chip: ChipData
) -> None:
    """A DNS-rebinding page (``Host: evil.test``) and a request without ``Origin`` (not a
    kiosk page's fetch) are refused before the chip is touched."""
    device.place(an_chip)
    port = int(bridge.rsplit(":", 1)[1])
    body = json.dumps(AN_CAN.as_json()).encode()
    good = {"Host": f"127.0.0.1:{port}", "Origin": ORIGIN, "Content-Length": str(len(body))}
    assert _raw(port, good, body) == 200
    assert _raw(port, {**good, "Host": f"localhost:{port}"}, body) == 200
    assert _raw(port, {**good, "Host": f"evil.test:{port}"}, body) == 403
    assert _raw(port, {**good, "Host": "127.0.0.1:1"}, body) == 403
    no_origin = {k: v for k, v in good.items() if k != "Origin"}
    assert _raw(port, no_origin, body) == 403
    assert _post(bridge, body, None)[0] == 403


@pytest.mark.parametrize(("length", "status"), [("-1", 400), ("12abc", 400), ("+5", 400), ("999999", 413)])
def test_a_bad_or_too_large_content_length_is_refused(bridge: str, length: str, status: int) -> None:
    port = int(bridge.rsplit(":", 1)[1])
    headers = {"Host": f"127.0.0.1:{port}", "Origin": ORIGIN, "Content-Length": length}
    assert _raw(port, headers, b"{}") == status


def test_the_bridge_stops_answering_for_a_while_after_three_wrong_keys(
    device: SimulatedReader, an_chip: ChipData
) -> None:
    """Guessing the 6-digit CAN: after 3 wrong keys every read is refused for 30 s, the right key
    too; then the right key opens the chip."""
    now = [1000.0]
    server = serve_bridge(device, origin=ORIGIN, clock=lambda: now[0])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = BridgeClient(f"http://127.0.0.1:{server.server_address[1]}", origin=ORIGIN)
        device.place(an_chip)
        for guess in ("000000", "000001", "000002"):
            with pytest.raises(ReaderError) as wrong:
                client.read(AccessKey.from_can(guess))
            assert wrong.value.rule == "access_denied"
        with pytest.raises(ReaderError, match="too many wrong access keys"):
            client.read(AN_CAN)
        now[0] += 31
        assert client.read(AN_CAN).access == "pace"
    finally:
        server.shutdown()
        server.server_close()
