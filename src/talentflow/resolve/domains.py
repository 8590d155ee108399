"""Email domains: registered domain (Public Suffix List), country-code TLD, webmail.

tldextract is used with its bundled Public Suffix List snapshot only: no network, no cache
files (``suffix_list_urls=()``, ``cache_dir=None``). It is imported on the first domain
parsed: a corpus without email domains (OpenAlex) never pays for it (and for ``requests``,
which it loads).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tldextract

#: Webmail and personal-mail providers: their domain says nothing about where someone works.
WEBMAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.co.in",
        "yahoo.com.cn",
        "yahoo.com.tw",
        "yahoo.com.hk",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "outlook.com",
        "live.com",
        "live.cn",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "naver.com",
        "hanmail.net",
        "daum.net",
        "kakao.com",
        "nate.com",
        "rediffmail.com",
        "zoho.com",
        "mail.com",
        "tutanota.com",
        "fastmail.com",
        "hey.com",
        "ymail.com",
        "rocketmail.com",
        "free.fr",
        "orange.fr",
        "laposte.net",
        "libero.it",
        "tiscali.it",
        "t-online.de",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "rambler.ru",
        "bk.ru",
        "list.ru",
        "inbox.ru",
        "ya.ru",
        "email.com",
        "usa.net",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "earthlink.net",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "example.com",
        "users.noreply.github.com",
    ]
)

#: Generic top-level domains; ``edu`` is handled apart (weak evidence for the US).
GENERIC_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "info",
        "biz",
        "io",
        "ai",
        "co",
        "me",
        "tv",
        "app",
        "dev",
        "xyz",
        "tech",
        "eu",
        "int",
    ]
)


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True)
class DomainInfo:
    """What an email domain tells: its registered domain, suffix and whether it is webmail."""

    domain: str
    registered: str
    suffix: str
    webmail: bool


@lru_cache(maxsize=200_000)
def parse_domain(domain: str) -> DomainInfo | None:
    """Parse an email domain (or an address); ``None`` when there is nothing usable.

    Examples
    --------
    >>> parse_domain("cs.stanford.edu").registered
    'stanford.edu'
    >>> parse_domain("qq.com").webmail
    True
    """
    domain = domain.strip().lower().rsplit("@", 1)[-1].strip(". ")
    if not domain or " " in domain or "." not in domain or len(domain) > 253:
        return None
    ext = _extractor()(domain)
    if not ext.suffix:
        return None
    registered = f"{ext.domain}.{ext.suffix}" if ext.domain else ext.suffix
    webmail = registered in WEBMAIL or domain in WEBMAIL
    return DomainInfo(domain=domain, registered=registered, suffix=ext.suffix, webmail=webmail)


def domain_keys(info: DomainInfo) -> list[str]:
    """Lookup keys from most to least specific: the full domain's parents down to registered."""
    labels = info.domain.split(".")
    keys = []
    n_reg = info.registered.count(".") + 1
    for i in range(len(labels) - n_reg + 1):
        keys.append(".".join(labels[i:]))
    return keys
