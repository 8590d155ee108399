"""Location hints: country names and aliases, states and provinces, cities that imply a country.

The tables here are hand-curated (documented in docs/resolve.md); country names also come from
pycountry and the country-codes registry. Ambiguous city names (Cambridge, Durham, Victoria,
Kingston, Hamilton, York, Columbia, ...) are left out on purpose: they are decided by the
institution or the email domain instead.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pycountry

from talentflow.resolve.normalize import normalize

#: Extra country aliases (normalised on load). Hong Kong, Macao and Taiwan stay distinct.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s a": "US",
    "u s": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "china": "CN",
    "p r china": "CN",
    "pr china": "CN",
    "p r c": "CN",
    "prc": "CN",
    "peoples republic of china": "CN",
    "people s republic of china": "CN",
    "mainland china": "CN",
    "中国": "CN",
    "中华人民共和国": "CN",
    "hong kong": "HK",
    "hong kong sar": "HK",
    "hong kong sar china": "HK",
    "hksar": "HK",
    "hong kong china": "HK",
    "macau": "MO",
    "macao": "MO",
    "macau sar": "MO",
    "macao sar": "MO",
    "taiwan": "TW",
    "taiwan roc": "TW",
    "r o c": "TW",
    "republic of china": "TW",
    "taiwan province of china": "TW",
    "korea": "KR",
    "south korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "rep of korea": "KR",
    "korea south": "KR",
    "north korea": "KP",
    "russia": "RU",
    "russian federation": "RU",
    "iran": "IR",
    "vietnam": "VN",
    "viet nam": "VN",
    "czech republic": "CZ",
    "czechia": "CZ",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "turkey": "TR",
    "turkiye": "TR",
    "uae": "AE",
    "u a e": "AE",
    "united arab emirates": "AE",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "deutschland": "DE",
    "allemagne": "DE",
    "espana": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "brasil": "BR",
    "nederland": "NL",
    "belgique": "BE",
    "belgie": "BE",
    "sverige": "SE",
    "danmark": "DK",
    "norge": "NO",
    "suomi": "FI",
    "polska": "PL",
    "nippon": "JP",
    "日本": "JP",
    "한국": "KR",
    "대한민국": "KR",
    "ksa": "SA",
    "kingdom of saudi arabia": "SA",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "palestine": "PS",
    "brunei": "BN",
    "macedonia": "MK",
    "north macedonia": "MK",
    "kosovo": "XK",
}

#: Words that are country names elsewhere but mostly something else in affiliations.
NOT_COUNTRIES = {"georgia", "jersey", "chad", "niger", "guinea", "mali", "togo", "oman", "peru"}

#: States, provinces and regions that imply a country.
REGIONS: dict[str, list[str]] = {
    "US": [
        "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
        "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa",
        "kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan",
        "minnesota", "mississippi", "missouri", "montana", "nebraska", "nevada",
        "new hampshire", "new jersey", "new mexico", "new york", "north carolina",
        "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania", "rhode island",
        "south carolina", "south dakota", "tennessee", "texas", "utah", "vermont", "virginia",
        "washington", "west virginia", "wisconsin", "wyoming", "district of columbia",
        "washington dc", "washington d c", "new england",
    ],
    "CA": [
        "ontario", "quebec", "british columbia", "alberta", "manitoba", "saskatchewan",
        "nova scotia", "new brunswick", "newfoundland",
    ],
    "CN": [
        "beijing", "shanghai", "tianjin", "chongqing", "guangdong", "jiangsu", "zhejiang",
        "shandong", "henan", "hebei", "hubei", "hunan", "sichuan", "fujian", "anhui",
        "jiangxi", "liaoning", "jilin", "heilongjiang", "shaanxi", "shanxi", "yunnan",
        "guizhou", "gansu", "qinghai", "hainan", "guangxi", "inner mongolia", "ningxia",
        "xinjiang", "tibet",
    ],
    "AU": ["new south wales", "nsw", "queensland", "tasmania", "western australia",
           "south australia", "australian capital territory"],
    "DE": ["bavaria", "bayern", "baden wurttemberg", "nordrhein westfalen", "saxony", "hesse"],
    "GB": ["oxfordshire", "cambridgeshire", "surrey", "sussex", "middlesex"],
    "IN": ["karnataka", "maharashtra", "tamil nadu", "telangana", "west bengal", "uttar pradesh",
           "kerala", "gujarat", "punjab india", "rajasthan", "assam", "odisha"],
}

#: Two-letter state/province codes, trusted only as the head of their own segment ("CA 94305").
REGION_CODES: dict[str, str] = {
    **{
        c: "US"
        for c in (
            "al ak az ar ca co ct de fl ga hi id il in ia ks ky la md ma mi mn ms mo mt ne nv nh "
            "nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc"
        ).split()
    },
    **{c: "CA" for c in "on qc bc ab mb ns nb".split()},
}
#: State codes that are also words or country codes: a state only before a ZIP code or after
#: another US place ("Urbana, IL"); otherwise a country code (or nothing).
CONTEXT_CODES = frozenset({"de", "il", "in", "id", "mt", "co", "or", "me", "ok", "hi", "oh", "la", "al", "ar", "ne", "sc", "sd", "tn", "md", "mn", "ms", "ky", "va", "pa", "ga", "nc", "mo"})

#: Country codes trusted when they form a segment of their own ("..., NL").
SEGMENT_COUNTRY_CODES: dict[str, str] = {
    c: c.upper()
    for c in (
        "nl at ch fr jp kr cn sg au be se dk no fi es it pt gr pl cz hk tw br ru de il in id "
        "ie nz za mx ar cl ae sa qa tr ua ro hu bg rs hr si sk ee lv lt lu is vn th my ph pk "
        "bd ir eg ng ke"
    ).split()
}
SEGMENT_COUNTRY_CODES["uk"] = "GB"

#: Cities (and campuses) that imply a country; unambiguous ones only.
CITIES: dict[str, list[str]] = {
    "US": [
        "seattle", "redmond", "bellevue", "kirkland", "san francisco", "mountain view",
        "palo alto", "menlo park", "sunnyvale", "san jose", "santa clara", "cupertino",
        "berkeley", "los angeles", "san diego", "la jolla", "irvine", "pasadena", "new york city",
        "nyc", "boston", "pittsburgh", "chicago", "austin", "houston", "dallas", "atlanta",
        "philadelphia", "princeton", "ann arbor", "madison", "minneapolis", "baltimore",
        "college park", "evanston", "urbana", "champaign", "urbana champaign", "stony brook",
        "ithaca", "new haven", "providence", "chapel hill", "raleigh", "nashville",
        "salt lake city", "boulder", "denver", "phoenix", "tempe", "tucson", "honolulu",
        "yorktown heights", "armonk", "west lafayette", "amherst", "buffalo", "columbus",
        "cleveland", "cincinnati", "detroit", "st louis", "saint louis", "santa barbara",
        "santa cruz", "merced", "stanford", "los alamos", "livermore", "oak ridge",
        "san antonio", "miami", "orlando", "gainesville", "tallahassee", "blacksburg",
        "charlottesville", "durham nc", "lexington", "knoxville", "albuquerque", "silicon valley",
        "bay area", "brooklyn", "manhattan", "hoboken", "newark", "rochester ny", "troy ny",
        "east lansing", "bloomington", "iowa city", "lincoln ne", "storrs", "hanover nh",
        "notre dame", "south bend", "riverside ca", "davis ca", "cambridge ma", "cambridge usa",
    ],
    "CA": [
        "toronto", "montreal", "vancouver", "waterloo", "ottawa", "edmonton", "calgary",
        "quebec city", "winnipeg", "burnaby", "sherbrooke", "saskatoon", "mississauga",
    ],
    "GB": [
        "london", "oxford", "edinburgh", "glasgow", "manchester", "bristol", "leeds",
        "sheffield", "liverpool", "nottingham", "southampton", "warwick", "coventry", "cardiff",
        "belfast", "aberdeen", "dundee", "st andrews", "exeter", "brighton", "guildford",
        "norwich", "leicester", "loughborough", "swansea", "cambridge uk", "milton keynes",
    ],
    "FR": [
        "paris", "lyon", "grenoble", "marseille", "toulouse", "lille", "rennes", "bordeaux",
        "strasbourg", "saclay", "palaiseau", "sophia antipolis", "montpellier", "nantes",
        "gif sur yvette", "orsay", "villeurbanne", "cachan", "nancy france",
    ],
    "DE": [
        "berlin", "munich", "munchen", "muenchen", "hamburg", "frankfurt", "stuttgart",
        "tubingen", "tuebingen", "heidelberg", "freiburg", "darmstadt", "karlsruhe", "aachen",
        "bonn", "cologne", "koln", "dresden", "leipzig", "saarbrucken", "saarbruecken",
        "mannheim", "hannover", "gottingen", "goettingen", "jena", "erlangen", "bremen",
        "bochum", "dortmund", "potsdam", "ulm", "konstanz", "kaiserslautern", "magdeburg",
        "osnabruck", "paderborn", "bielefeld", "wurzburg", "mainz", "augsburg", "passau",
        "garching", "renningen", "julich",
    ],
    "CH": ["zurich", "geneva", "geneve", "lausanne", "basel", "bern", "lugano", "ruschlikon"],
    "NL": ["amsterdam", "delft", "eindhoven", "utrecht", "leiden", "rotterdam", "nijmegen",
           "groningen", "enschede", "the hague", "maastricht", "tilburg"],
    "BE": ["brussels", "bruxelles", "leuven", "ghent", "gent", "antwerp", "louvain la neuve"],
    "AT": ["vienna", "wien", "graz", "linz", "innsbruck", "klosterneuburg", "salzburg"],
    "IT": ["rome", "roma", "milan", "milano", "turin", "torino", "genoa", "genova", "pisa",
           "florence", "firenze", "bologna", "padua", "padova", "naples", "napoli", "trento",
           "venice", "venezia", "siena", "modena", "trieste", "catania", "palermo", "bari"],
    "ES": ["madrid", "barcelona", "seville", "sevilla", "granada", "bilbao", "zaragoza",
           "san sebastian", "donostia", "valencia spain"],
    "PT": ["lisbon", "lisboa", "porto", "coimbra", "braga"],
    "DK": ["copenhagen", "kobenhavn", "aarhus", "lyngby", "kongens lyngby", "aalborg"],
    "SE": ["stockholm", "gothenburg", "goteborg", "lund", "uppsala", "linkoping", "umea"],
    "NO": ["oslo", "trondheim", "bergen norway"],
    "FI": ["helsinki", "espoo", "tampere", "oulu", "turku"],
    "IE": ["dublin", "cork", "galway", "limerick", "maynooth"],
    "PL": ["warsaw", "warszawa", "krakow", "wroclaw", "poznan", "gdansk"],
    "CZ": ["prague", "praha", "brno"],
    "HU": ["budapest"],
    "GR": ["athens", "heraklion", "thessaloniki", "patras"],
    "RU": ["moscow", "saint petersburg", "st petersburg", "novosibirsk", "skolkovo", "kazan",
           "dolgoprudny"],
    "UA": ["kyiv", "kiev", "kharkiv", "lviv"],
    "RO": ["bucharest", "cluj napoca"],
    "BG": ["sofia bulgaria"],
    "RS": ["belgrade"],
    "HR": ["zagreb"],
    "SI": ["ljubljana"],
    "EE": ["tallinn", "tartu"],
    "LV": ["riga"],
    "LT": ["vilnius"],
    "LU": ["esch sur alzette"],
    "IS": ["reykjavik"],
    "TR": ["istanbul", "ankara", "izmir"],
    "IL": ["tel aviv", "jerusalem", "haifa", "rehovot", "beer sheva", "beersheba", "herzliya",
           "ramat gan"],
    "JP": ["tokyo", "kyoto", "osaka", "nagoya", "sendai", "fukuoka", "sapporo", "yokohama",
           "tsukuba", "kobe", "hiroshima", "chiba", "kawasaki", "nara", "okinawa"],
    "KR": ["seoul", "daejeon", "pohang", "busan", "ulsan", "suwon", "gwangju", "incheon",
           "seongnam", "pangyo", "daegu"],
    "SG": ["singapore"],
    "IN": ["bangalore", "bengaluru", "mumbai", "bombay", "delhi", "new delhi", "chennai",
           "madras", "hyderabad india", "kolkata", "kanpur", "kharagpur", "pune", "guwahati",
           "roorkee", "gandhinagar", "noida", "gurgaon", "gurugram", "powai"],
    "VN": ["hanoi", "ha noi", "ho chi minh city", "saigon", "da nang"],
    "TH": ["bangkok"],
    "MY": ["kuala lumpur"],
    "ID": ["jakarta", "bandung"],
    "PH": ["manila", "quezon city"],
    "BD": ["dhaka"],
    "PK": ["karachi", "lahore", "islamabad"],
    "IR": ["tehran", "isfahan"],
    "SA": ["riyadh", "thuwal", "jeddah", "dhahran"],
    "AE": ["dubai", "abu dhabi", "masdar city"],
    "QA": ["doha"],
    "EG": ["cairo"],
    "AU": ["sydney", "melbourne", "brisbane", "canberra", "adelaide", "perth", "gold coast",
           "clayton", "hobart", "wollongong", "geelong"],
    "NZ": ["auckland", "christchurch", "dunedin"],
    "BR": ["sao paulo", "rio de janeiro", "campinas", "belo horizonte", "porto alegre",
           "recife", "sao carlos"],
    "AR": ["buenos aires"],
    "CL": ["santiago de chile"],
    "CO": ["bogota", "medellin"],
    "MX": ["mexico city", "guadalajara", "monterrey"],
    "UY": ["montevideo"],
    "ZA": ["cape town", "johannesburg", "pretoria", "stellenbosch"],
    "KE": ["nairobi"],
    "NG": ["lagos"],
    "GH": ["accra"],
    "RW": ["kigali"],
    "ET": ["addis ababa"],
    "TN": ["tunis"],
    "MA": ["casablanca", "rabat"],
    "CN": [
        "shenzhen", "guangzhou", "hangzhou", "nanjing", "wuhan", "chengdu", "xian", "xi an",
        "hefei", "suzhou", "harbin", "dalian", "changsha", "jinan", "qingdao", "xiamen",
        "fuzhou", "shenyang", "changchun", "zhengzhou", "kunming", "lanzhou", "nanchang",
        "ningbo", "wuxi", "zhuhai", "dongguan", "foshan", "taiyuan", "shijiazhuang", "nanning",
        "guiyang", "urumqi", "hohhot", "haikou", "wenzhou", "changzhou", "nantong",
        "yangzhou", "xuzhou", "zhenjiang", "haidian", "pudong", "minhang", "北京", "上海",
        "深圳", "杭州", "南京", "广州", "武汉", "成都", "合肥",
    ],
    "HK": ["kowloon", "sha tin", "shatin", "pokfulam", "clear water bay", "tai po",
           "香港", "new territories hong kong"],
    "MO": ["taipa", "澳门"],
    "TW": ["taipei", "hsinchu", "tainan", "taichung", "kaohsiung", "taoyuan", "台北", "台湾",
           "新竹"],
}


def country_names(registry_dir: Path | None = None) -> dict[str, str]:
    """Normalised country name -> ISO2, from pycountry, the country-codes registry and aliases."""
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[normalize(value)] = c.alpha_2
    csv_path = registry_dir / "country-codes" / "country-codes.csv" if registry_dir else None
    if csv_path is not None and csv_path.exists():
        with csv_path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                iso2 = (row.get("ISO3166-1-Alpha-2") or "").strip()
                if len(iso2) != 2:
                    continue
                for col in ("CLDR display name", "official_name_en", "UNTERM English Short"):
                    value = (row.get(col) or "").strip()
                    if value:
                        names.setdefault(normalize(value), iso2)
    for alias, iso2 in COUNTRY_ALIASES.items():
        names[normalize(alias)] = iso2
    for word in NOT_COUNTRIES:
        names.pop(word, None)
    names.pop("", None)
    return names


def place_table(registry_dir: Path | None = None) -> dict[str, tuple[str, int]]:
    """Normalised place phrase -> (ISO2, rank); rank 3 country, 2 region, 1 city."""
    table: dict[str, tuple[str, int]] = {}
    for cc, cities in CITIES.items():
        for city in cities:
            table[normalize(city)] = (cc, 1)
    for cc, regions in REGIONS.items():
        for region in regions:
            table[normalize(region)] = (cc, 2)
    for name, cc in country_names(registry_dir).items():
        table[name] = (cc, 3)
    table.pop("", None)
    return table


def tld_countries(registry_dir: Path | None = None) -> dict[str, str]:
    """Country-code top-level domain (without dot) -> ISO2; ``uk`` is GB."""
    out: dict[str, str] = {c.alpha_2.lower(): c.alpha_2 for c in pycountry.countries}
    csv_path = registry_dir / "country-codes" / "country-codes.csv" if registry_dir else None
    if csv_path is not None and csv_path.exists():
        with csv_path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                tld = (row.get("TLD") or "").strip().lstrip(".").lower()
                iso2 = (row.get("ISO3166-1-Alpha-2") or "").strip()
                if tld and len(iso2) == 2:
                    out[tld] = iso2
    out["uk"] = "GB"
    # Vanity ccTLDs used world-wide say nothing about the country.
    for vanity in ("ai", "io", "co", "me", "tv", "ly", "fm", "am", "gg", "to", "cc", "ws", "sh",
                   "la", "so", "vc", "xyz", "app", "dev", "su"):
        out.pop(vanity, None)
    return out
