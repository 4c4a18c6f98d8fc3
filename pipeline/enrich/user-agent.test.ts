import { describe, expect, it } from 'vitest';
import { UserAgentClassifier } from './user-agent.ts';

const UA = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  firefoxMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  iphoneSafari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  androidChrome:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  androidTablet:
    'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  cubotPhone:
    'Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  googlebotSmartphone:
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.204 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  uptimeRobot: 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
  pingdom: 'Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)',
  unknownBot: 'Mozilla/5.0 (compatible; AcmeBot/3.2; +https://acme.example/bot.html)',
  headless:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
  curl: 'curl/8.5.0',
  pythonRequests: 'python-requests/2.31.0',
  goHttp: 'Go-http-client/2.0',
  postman: 'PostmanRuntime/7.42.0',
  k6: 'k6/0.54.0 (https://k6.io/)',
  okhttp: 'okhttp/4.12.0',
  iosApp: 'MyApp/1.2.3 (iPhone; iOS 17.0; Scale/3.00)',
} as const;

describe('UserAgentClassifier', () => {
  it.each([
    [UA.chromeWindows, 'Chrome', '131', 'Windows'],
    [UA.firefoxMac, 'Firefox', '133', 'Mac OS'],
    [UA.safariMac, 'Safari', '17', 'Mac OS'],
    [UA.edgeWindows, 'Edge', '131', 'Windows'],
    [UA.firefoxLinux, 'Firefox', '128', 'Linux'],
  ])('classifies desktop browser %s', (ua, browser, version, os) => {
    // Act
    const info = new UserAgentClassifier().classify(ua);

    // Assess
    expect(info).toEqual({ browser, browserVersion: version, os, deviceType: 'desktop', isBot: false });
  });

  it.each([
    [UA.iphoneSafari, 'Mobile Safari', '17', 'iOS', 'mobile'],
    [UA.androidChrome, 'Chrome', '131', 'Android', 'mobile'],
    [UA.cubotPhone, 'Chrome', '120', 'Android', 'mobile'],
    [UA.ipad, 'Mobile Safari', '17', 'iOS', 'tablet'],
    [UA.androidTablet, 'Chrome', '131', 'Android', 'tablet'],
  ])('classifies handheld browser %s', (ua, browser, version, os, deviceType) => {
    const info = new UserAgentClassifier().classify(ua);
    expect(info).toEqual({ browser, browserVersion: version, os, deviceType, isBot: false });
  });

  it.each([
    [UA.googlebot, 'Googlebot', '2'],
    [UA.googlebotSmartphone, 'Googlebot', '2'],
    [UA.bingbot, 'Bingbot', '2'],
    [UA.uptimeRobot, 'UptimeRobot', '2'],
    [UA.pingdom, 'Pingdom', null],
    [UA.unknownBot, 'AcmeBot', '3'],
    [UA.headless, 'Chrome Headless', '120'],
  ])('marks crawler or monitor %s as a bot', (ua, browser, version) => {
    const info = new UserAgentClassifier().classify(ua);
    expect(info).toMatchObject({ browser, browserVersion: version, deviceType: 'bot', isBot: true });
  });

  it.each([
    [UA.curl, 'curl', '8'],
    [UA.pythonRequests, 'python-requests', '2'],
    [UA.goHttp, 'Go-http-client', '2'],
    [UA.postman, 'PostmanRuntime', '7'],
    [UA.k6, 'k6', '0'],
  ])('marks script %s as a bot named after its library', (ua, browser, version) => {
    const info = new UserAgentClassifier().classify(ua);
    expect(info).toEqual({ browser, browserVersion: version, os: null, deviceType: 'bot', isBot: true });
  });

  it('treats okhttp as an app client, not a bot', () => {
    const info = new UserAgentClassifier().classify(UA.okhttp);
    expect(info).toEqual({
      browser: 'okhttp',
      browserVersion: '4',
      os: null,
      deviceType: 'other',
      isBot: false,
    });
  });

  it('names a native app by its product token and keeps its device', () => {
    const info = new UserAgentClassifier().classify(UA.iosApp);
    expect(info).toEqual({
      browser: 'MyApp',
      browserVersion: '1',
      os: 'iOS',
      deviceType: 'mobile',
      isBot: false,
    });
  });

  it.each([undefined, '', '   '])('gives all nulls for %j', (ua) => {
    const info = new UserAgentClassifier().classify(ua);
    expect(info).toEqual({
      browser: null,
      browserVersion: null,
      os: null,
      deviceType: 'other',
      isBot: false,
    });
  });

  it('classifies a user agent by its first 1,024 characters, as many as the field holds', () => {
    // Prepare: one taken from the headers (8 KB allowed there), a bot token past the first 1 KB.
    const classifier = new UserAgentClassifier();
    const long = `${UA.curl}${' '.repeat(2_000)}Googlebot/2.1`;

    // Act
    const info = classifier.classify(long);

    // Assess
    expect(info).toEqual(classifier.classify(UA.curl));
    expect(info.browser).not.toBe('Googlebot');
  });

  it('answers repeats from its cache with the same frozen object', () => {
    // Prepare
    const classifier = new UserAgentClassifier({ cacheSize: 2 });

    // Act
    const first = classifier.classify(UA.chromeWindows);
    const again = classifier.classify(UA.chromeWindows);
    classifier.classify(UA.curl);
    classifier.classify(UA.okhttp);
    const afterEviction = classifier.classify(UA.chromeWindows);

    // Assess
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(afterEviction).not.toBe(first);
    expect(afterEviction).toEqual(first);
  });
});
