"""A small HTTP client for the bench: one keep-alive connection and one cookie jar per signed-in user, the real
login pages (password with CSRF, then the TOTP code, then the CGU if asked). Standard library only, thread-safe
per instance (one instance per virtual user)."""

import hashlib
import hmac
import http.client
import re
import struct
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
GATE_PAGES = ("/2fa/verification/", "/cgu/", "/2fa/activation/", "/mot-de-passe/expire/")


def totp(key_hex: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 code of a hex key (the bench's accounts share a published key)."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    seconds: float  # from sending the request to the last byte of the body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def queries(self) -> int | None:
        value = self.headers.get("x-bench-queries")
        return int(value) if value is not None else None

    @property
    def sql_ms(self) -> float | None:
        value = self.headers.get("x-bench-sql-ms")
        return float(value) if value is not None else None


class LoginError(Exception):
    pass


class Client:
    def __init__(self, base_url: str, timeout: float = 120):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.username = ""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, data: dict | None = None, *, read=True, on_chunk=None) -> Response:
        """One request; `on_chunk(bytes_so_far)` is called while a long body streams in (the export)."""
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "banc-de-mesure"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.base_url + path
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, on a new one
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = self._read(response, on_chunk)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            break
        response_headers = {k.lower(): v for k, v in response.getheaders()}
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return Response(response.status, response_headers, content, seconds)

    @staticmethod
    def _read(response, on_chunk) -> bytes:
        if on_chunk is None:
            return response.read()
        chunks, size = [], 0
        while chunk := response.read(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            on_chunk(size)
        return b"".join(chunks)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict) -> Response:
        return self.request("POST", path, data)

    def _form_post(self, path: str, fields: dict) -> Response:
        page = self.get(path)
        match = CSRF_FIELD.search(page.text)
        if page.status != 200 or not match:
            raise LoginError(f"{self.username} : pas de formulaire sur {path} (HTTP {page.status})")
        return self.post(path, {"csrfmiddlewaretoken": match.group(1), **fields})

    def login(self, username: str, password: str, totp_key: str) -> None:
        """The real way in: login form, then the second factor, then the CGU if the gate asks for them."""
        self.username = username
        answer = self._form_post("/connexion/", {"username": username, "password": password})
        if answer.status != 302:
            raise LoginError(f"{username} : identifiant ou mot de passe refusé (HTTP {answer.status})")
        location = answer.headers.get("location", "/")
        for _ in range(6):
            path = urlsplit(urljoin(self.base_url + "/", location)).path
            query = urlsplit(location).query
            target = path + (f"?{query}" if query else "")
            if path.startswith("/2fa/verification/"):
                answer = self._form_post(target, {"code": self._fresh_code(totp_key)})
                if answer.status == 200:  # this account's code of this 30 s step already served: the next one
                    time.sleep(30 - time.time() % 30 + 0.5)
                    answer = self._form_post(target, {"code": self._fresh_code(totp_key)})
            elif path.startswith("/cgu/"):
                answer = self._form_post(target, {"accept": "on"})
            else:
                answer = self.get(target)
                if answer.status == 200:
                    return
            if answer.status != 302:
                raise LoginError(f"{username} : bloqué sur {path} (HTTP {answer.status})")
            location = answer.headers.get("location", "/")
        raise LoginError(f"{username} : trop de redirections à la connexion")

    @staticmethod
    def _fresh_code(key: str) -> str:
        """A code that stays valid for the next few seconds (not one about to change)."""
        if time.time() % 30 > 27:
            time.sleep(30 - time.time() % 30 + 0.1)
        return totp(key)
