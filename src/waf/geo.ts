/**
 * What `@geoLookup` puts into the GEO collection, from the offline country database Palisade
 * already ships (core/geoip.ts, DB-IP's country MMDB; the scheme's ip.src.country reads the
 * same): COUNTRY_CODE, COUNTRY_CODE3, COUNTRY_NAME and COUNTRY_CONTINENT, as ModSecurity's
 * GeoIP lookup names them. The database has no region, city or coordinates, so REGION, CITY,
 * POSTAL_CODE, LATITUDE, LONGITUDE, DMA_CODE and AREA_CODE stay unset (a rule reading them does
 * not match, as with a country-only GeoIP database in ModSecurity).
 *
 * ISO 3166-1 alpha-3 codes are from Debian's iso-codes; the continent codes are GeoIP's (AF, AN,
 * AS, EU, NA, OC, SA); names come from the runtime's ICU (English), the code when it has none.
 */
import { geoDb } from '../core/geoip.js';

export interface GeoFields {
  COUNTRY_CODE: string;
  COUNTRY_CODE3: string;
  COUNTRY_NAME: string;
  COUNTRY_CONTINENT: string;
}

/** alpha-2 + alpha-3, space separated. */
const ALPHA3 = [
  'ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN',
  'BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN COCOL CRCRI',
  'CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA',
  'GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN',
  'IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ',
  'LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ',
  'MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF',
  'PGPNG PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN',
  'SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR',
  'TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE XKXKX',
].join(' ');

const CONTINENTS: Record<string, string> = {
  AF: 'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS: 'AE AF AM AZ BD BH BN BT CC CN CX CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE',
  EU: 'AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK',
  NA: 'AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI',
  OC: 'AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS',
  SA: 'AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
};

let alpha3: Map<string, string> | null = null;
let continent: Map<string, string> | null = null;
let names: Intl.DisplayNames | null | undefined;

function tables(): void {
  if (alpha3 !== null) return;
  alpha3 = new Map();
  for (const w of ALPHA3.split(' ')) alpha3.set(w.slice(0, 2), w.slice(2));
  continent = new Map();
  for (const [c, list] of Object.entries(CONTINENTS)) for (const cc of list.split(' ')) continent.set(cc, c);
}

function countryName(cc: string): string {
  if (names === undefined) {
    try {
      names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
    } catch {
      names = null;
    }
  }
  try {
    return names?.of(cc) ?? cc;
  } catch {
    return cc;
  }
}

/** The GEO fields of a country code. */
export function geoOfCountry(cc: string): GeoFields {
  tables();
  return {
    COUNTRY_CODE: cc,
    COUNTRY_CODE3: (alpha3 as Map<string, string>).get(cc) ?? '',
    COUNTRY_NAME: countryName(cc),
    COUNTRY_CONTINENT: (continent as Map<string, string>).get(cc) ?? '',
  };
}

const LIMIT = 65536;
const cache = new Map<string, GeoFields | null>();

/** The GEO fields of an address; null when it is not an address or the database does not place it. Cached per address (bounded). */
export function geoLookup(ip: string): GeoFields | null {
  let g = cache.get(ip);
  if (g !== undefined) return g;
  const cc = geoDb().lookup(ip.trim()).country;
  g = cc === undefined ? null : geoOfCountry(cc);
  if (cache.size >= LIMIT) cache.clear();
  cache.set(ip, g);
  return g;
}
