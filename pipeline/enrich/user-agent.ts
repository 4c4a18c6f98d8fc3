import UAParser from 'ua-parser-js';
import { LIMITS } from '../../schemas/request-log.ts';
import { LruCache } from './lru-cache.ts';

/** Characters of a user agent classified: as many as the `user_agent` field may hold. */
const MAX_CLASSIFIED_CHARS = LIMITS.maxUserAgentLength;

export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'other';

export interface UserAgentInfo {
  readonly browser: string | null;
  /** Major version only: `131`, not `131.0.6778.204`. */
  readonly browserVersion: string | null;
  readonly os: string | null;
  readonly deviceType: DeviceType;
  readonly isBot: boolean;
}

/**
 * Automated clients that `ua-parser-js` 1.x does not recognise. Each is `[name, pattern]`; the
 * pattern's first group, when it matches, is the major version. Every entry is a bot: search and
 * preview crawlers, uptime monitors, and scripts or HTTP libraries (curl, python-requests,
 * load testers). For those `browser` is the client's name and `deviceType` is `bot`, so that
 * `device_type = 'bot'` and `is_bot` always agree.
 *
 * Not here on purpose: okhttp, Dalvik, CFNetwork and Alamofire. They are the HTTP stacks of
 * Android and iOS apps, so their traffic is mostly people using an app, not bots.
 */
const BOT_RULES: readonly (readonly [string, RegExp])[] = [
  // crawlers and link previewers
  ['Googlebot', /googlebot(?:-\w+)?\/(\d+)|googlebot/i],
  [
    'Google',
    /(?:adsbot-google|mediapartners-google|apis-google|google-inspectiontool|storebot-google|googleother|google-extended)(?:\/(\d+))?/i,
  ],
  ['Bingbot', /bingbot\/(\d+)|bingbot|bingpreview/i],
  ['Yahoo Slurp', /yahoo! slurp/i],
  ['DuckDuckBot', /duckduck(?:go-favicons-)?bot(?:\/(\d+))?/i],
  ['Baiduspider', /baiduspider(?:-\w+)?(?:\/(\d+))?/i],
  ['YandexBot', /yandex\w*bot\/(\d+)|yandex\w*\/(\d+)|yandexbot/i],
  ['Applebot', /applebot(?:-extended)?\/(\d+)|applebot/i],
  ['Facebook', /facebookexternalhit\/(\d+)|facebookcatalog|meta-externalagent(?:\/(\d+))?/i],
  ['Twitterbot', /twitterbot\/(\d+)|twitterbot/i],
  ['LinkedInBot', /linkedinbot\/(\d+)|linkedinbot/i],
  ['Slackbot', /slackbot(?:-linkexpanding)?(?: (\d+))?|slack-imgproxy/i],
  ['Discordbot', /discordbot\/(\d+)|discordbot/i],
  ['TelegramBot', /telegrambot/i],
  ['WhatsApp', /whatsapp\/(\d+)/i],
  ['AhrefsBot', /ahrefs(?:site)?(?:bot)?\/(\d+)/i],
  ['SemrushBot', /semrushbot(?:-\w+)?\/?(\d+)?/i],
  ['MJ12bot', /mj12bot\/v?(\d+)/i],
  ['DotBot', /dotbot\/(\d+)/i],
  ['PetalBot', /petalbot/i],
  ['Bytespider', /bytespider/i],
  ['GPTBot', /gptbot\/(\d+)|gptbot/i],
  ['ChatGPT-User', /chatgpt-user\/(\d+)|chatgpt-user/i],
  ['OAI-SearchBot', /oai-searchbot\/(\d+)|oai-searchbot/i],
  ['ClaudeBot', /claudebot\/(\d+)|claudebot|claude-web|anthropic-ai/i],
  ['PerplexityBot', /perplexitybot\/(\d+)|perplexitybot/i],
  ['CCBot', /ccbot\/(\d+)/i],
  ['Amazonbot', /amazonbot\/(\d+)/i],
  ['SeznamBot', /seznambot\/(\d+)/i],
  ['Sogou', /sogou \w+ spider\/(\d+)/i],
  ['Internet Archive', /ia_archiver|archive\.org_bot/i],
  // uptime monitors and health checkers
  ['UptimeRobot', /uptimerobot\/(\d+)/i],
  ['Pingdom', /pingdom/i],
  ['StatusCake', /statuscake/i],
  ['Site24x7', /site24x7/i],
  ['Datadog Synthetics', /datadog(?:agent|\/synthetics)/i],
  ['New Relic Synthetics', /newrelicpinger|newrelic-synthetics/i],
  ['Better Stack', /better ?uptime ?bot|betterstack/i],
  ['Checkly', /checkly/i],
  ['ELB-HealthChecker', /elb-healthchecker\/(\d+)/i],
  ['GoogleHC', /googlehc\/(\d+)/i],
  ['Route 53 Health Check', /amazon-route53-health-check/i],
  ['kube-probe', /kube-probe\/(\d+)/i],
  ['Prometheus', /prometheus\/(\d+)|blackbox-exporter\/(\d+)/i],
  ['Uptime Kuma', /uptime-kuma\/(\d+)/i],
  ['Nagios', /check_http\/v?(\d+)|nagios/i],
  ['Zabbix', /zabbix/i],
  ['Consul Health Check', /consul health check/i],
  // scripts, HTTP libraries and load testers
  ['curl', /^curl\/(\d+)/i],
  ['Wget', /^wget\/(\d+)/i],
  ['python-requests', /python-requests\/(\d+)/i],
  ['python-httpx', /python-httpx\/(\d+)/i],
  ['aiohttp', /aiohttp\/(\d+)/i],
  ['Python-urllib', /python-urllib\/(\d+)/i],
  ['Scrapy', /scrapy\/(\d+)/i],
  ['Go-http-client', /go-http-client\/(\d+)/i],
  ['axios', /^axios\/(\d+)/i],
  ['node-fetch', /^node-fetch(?:\/(\d+))?/i],
  ['undici', /^(?:undici|node)(?:\/(\d+))?$/i],
  ['got', /^got(?:\/(\d+))? \(/i],
  ['PostmanRuntime', /postmanruntime\/(\d+)/i],
  ['Insomnia', /^insomnia\/(\d+)/i],
  ['HTTPie', /^httpie\/(\d+)/i],
  ['k6', /^k6\/(\d+)/i],
  ['Apache JMeter', /apache-jmeter|jmeter/i],
  ['ApacheBench', /^apachebench\/(\d+)/i],
  ['Artillery', /artillery/i],
  ['Locust', /locust\/(\d+)/i],
  ['Apache-HttpClient', /apache-httpclient\/(\d+)/i],
  ['Java', /^java\/(\d+)/i],
  ['libwww-perl', /libwww-perl\/(\d+)/i],
  ['Ruby', /^ruby$|^faraday v(\d+)|^rest-client\/(\d+)/i],
  ['Guzzle', /guzzlehttp\/(\d+)/i],
  ['reqwest', /^reqwest\/(\d+)/i],
  ['Dart', /^dart\/(\d+)/i],
  ['PowerShell', /windowspowershell\/(\d+)|^powershell\/(\d+)/i],
  ['AWS SDK', /^aws-sdk-\w+\/(\d+)/i],
  ['Chrome Headless', /headlesschrome\/(\d+)/i],
];

/** Anything that says it is a bot, even if it is not in the list above. */
const GENERIC_BOT = /[a-z]bot\/|\bbot\b|bot\.(?:html?|php)|crawl|spider|slurp|scraper|archiver/i;

/** The agent's own name in a generic bot: `AcmeBot/3.2` → `AcmeBot`, `3`. */
const BOT_TOKEN = /([A-Za-z][\w.-]*(?:bot|crawler|spider)[\w-]*)(?:\/v?(\d+))?/i;

const DESKTOP_OS = new Set([
  'Windows',
  'Mac OS',
  'macOS',
  'Linux',
  'Ubuntu',
  'Debian',
  'Fedora',
  'Chromium OS',
  'Chrome OS',
  'FreeBSD',
  'OpenBSD',
  'NetBSD',
  'Mint',
  'Arch',
  'CentOS',
  'RedHat',
  'SUSE',
  'Gentoo',
  'Solaris',
]);

const EMPTY: UserAgentInfo = Object.freeze({
  browser: null,
  browserVersion: null,
  os: null,
  deviceType: 'other',
  isBot: false,
});

const majorOf = (version: string | undefined): string | null => {
  if (version === undefined) return null;
  const m = /^\d+/.exec(version);
  return m === null ? null : m[0];
};

const firstGroup = (m: RegExpExecArray): string | null => {
  for (let i = 1; i < m.length; i++) if (m[i] !== undefined) return m[i] ?? null;
  return null;
};

/** `MyApp/1.2.3 (iPhone; …)` → `['MyApp', '1']`: the client's own product token. */
const productToken = (ua: string): readonly [string, string | null] | null => {
  const m = /^([A-Za-z][\w.-]{0,63})\/v?(\d+)?/.exec(ua);
  if (m === null || m[1] === undefined || m[1] === 'Mozilla') return null;
  return [m[1], m[2] ?? null];
};

/**
 * Classifies User-Agent strings into browser, major version, OS and device type, with a bounded
 * LRU cache in front of the parser: real traffic repeats a few hundred agents, and parsing one
 * costs tens of microseconds while a cache hit costs well under one.
 */
export class UserAgentClassifier {
  private readonly cache: LruCache<string, UserAgentInfo>;

  constructor(options: { cacheSize?: number } = {}) {
    this.cache = new LruCache(options.cacheSize ?? 5_000);
  }

  classify(ua: string | undefined): UserAgentInfo {
    if (ua === undefined) return EMPTY;
    // A user agent taken from the headers may be 8 KB: its first 1 KB says what it is, and the
    // parser's patterns, tried at every position, cost the square of what they are given.
    const trimmed = (ua.length > MAX_CLASSIFIED_CHARS ? ua.slice(0, MAX_CLASSIFIED_CHARS) : ua).trim();
    if (trimmed === '') return EMPTY;
    const hit = this.cache.get(trimmed);
    if (hit !== undefined) return hit;
    const info = Object.freeze(this.parse(trimmed));
    this.cache.set(trimmed, info);
    return info;
  }

  private parse(ua: string): UserAgentInfo {
    const parsed = new UAParser(ua).getResult();
    const os = parsed.os.name ?? null;

    for (const [name, pattern] of BOT_RULES) {
      const m = pattern.exec(ua);
      if (m !== null)
        return { browser: name, browserVersion: firstGroup(m), os, deviceType: 'bot', isBot: true };
    }

    if (GENERIC_BOT.test(ua)) {
      const named = BOT_TOKEN.exec(ua);
      const token = named === null ? productToken(ua) : ([named[1] ?? '', named[2] ?? null] as const);
      return {
        browser: token?.[0] ?? null,
        browserVersion: token?.[1] ?? null,
        os,
        deviceType: 'bot',
        isBot: true,
      };
    }

    let browser = parsed.browser.name ?? null;
    let browserVersion = majorOf(parsed.browser.version);
    if (browser === null) {
      const token = productToken(ua);
      if (token !== null) [browser, browserVersion] = token;
    }
    return {
      browser,
      browserVersion,
      os,
      deviceType: deviceTypeOf(parsed.device.type, os, browser),
      isBot: false,
    };
  }
}

const deviceTypeOf = (type: string | undefined, os: string | null, browser: string | null): DeviceType => {
  if (type === 'mobile') return 'mobile';
  if (type === 'tablet') return 'tablet';
  if (type !== undefined) return 'other';
  return os !== null && browser !== null && DESKTOP_OS.has(os) ? 'desktop' : 'other';
};
