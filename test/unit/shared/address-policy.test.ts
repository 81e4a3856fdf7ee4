// Pure classification and parsing: nothing here opens a socket or resolves a name.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import {
  type AddressClass,
  checkTargetUrl,
  classifyAddress,
  createAddressPolicy,
  isLocalhostName,
  isValidCidr,
  parseHostAddress,
} from "../../../src/shared/address-policy.ts";

describe("classifyAddress", () => {
  const table: ReadonlyArray<readonly [string, AddressClass]> = [
    // IPv4
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["93.184.216.34", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["172.15.255.255", "public"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["100.128.0.1", "public"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["192.88.99.1", "reserved"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fe80::1", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fec0::1", "site-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["ff05::2", "multicast"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["2001:2::1", "benchmarking"],
    ["2001:10::1", "reserved"],
    ["100::1", "reserved"],
    ["64:ff9b:1::1", "reserved"],
    ["4000::1", "reserved"],
    ["::2:1", "reserved"],
    ["2606:4700::1", "public"],
    ["2a00:1450:4001::200e", "public"],
    // IPv6 embedding IPv4: classified by the embedded address
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a00:1", "private"],
    ["::ffff:127.0.0.2", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:8.8.8.8", "public"],
    ["::10.0.0.1", "private"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::a00:1", "private"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::808:808", "public"],
    ["2002:0a00:0001::", "private"],
    ["2002:7f00:1::1", "loopback"],
    ["2002:a9fe:a9fe::", "link-local"],
    ["2002:808:808::1", "public"],
    // Teredo: the client address is the last 32 bits, inverted (f5ff:fffe = ~0a00:0001)
    ["2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"],
    ["2001:0:4136:e378:8000:63bf:80ff:fefe", "loopback"],
    ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", "public"],
  ];

  for (const [ip, cls] of table) {
    it(`${ip} is ${cls}`, () => {
      assert.notEqual(net.isIP(ip), 0, `${ip} is a valid literal`);
      assert.equal(classifyAddress(ip), cls);
    });
  }

  it("throws on something that is not an IP", () => {
    assert.throws(() => classifyAddress("example.com"), TypeError);
    assert.throws(() => classifyAddress(""), TypeError);
  });
});

describe("parseHostAddress", () => {
  const table: ReadonlyArray<readonly [string, string | null]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["2130706434", "127.0.0.2"],
    ["0x7f000002", "127.0.0.2"],
    ["0X7F000002", "127.0.0.2"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0177.0.0.02", "127.0.0.2"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0x7f.0.0x0.2", "127.0.0.2"],
    ["017700000001", "127.0.0.1"],
    ["10.1", "10.0.0.1"],
    ["167772161", "10.0.0.1"],
    ["0", "0.0.0.0"],
    ["0x", "0.0.0.0"],
    ["127.0.0.1.", "127.0.0.1"],
    ["4294967295", "255.255.255.255"],
    ["[::1]", "::1"],
    ["::1", "::1"],
    ["[::ffff:127.0.0.2]", "::ffff:127.0.0.2"],
    ["[::ffff:7f00:2]", "::ffff:127.0.0.2"],
    ["[0:0:0:0:0:0:0:1]", "::1"],
    ["[2001:DB8:0:0:1:0:0:1]", "2001:db8::1:0:0:1"],
    ["[2002:0a00:0001::]", "2002:a00:1::"],
    ["[fe80::1%25eth0]", "fe80::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["[::10.0.0.1]", "::a00:1"],
    ["[1:0:0:2:0:0:0:3]", "1:0:0:2::3"],
    // DNS names and invalid literals
    ["example.com", null],
    ["hooks.slack.com", null],
    ["localhost", null],
    ["127.0.0.1.nip.io", null],
    ["1.2.3.4.5", null],
    ["256.0.0.1", null],
    ["4294967296", null],
    ["08", null],
    ["0x7g", null],
    ["1..2", null],
    ["", null],
    ["[]", null],
    ["[example.com]", null],
    ["[::1", null],
    ["1:2:3:4:5:6:7:8:9", null],
    ["1::2::3", null],
    ["::1.2.3", null],
    ["::01.2.3.4", null],
    ["12345::", null],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(parseHostAddress(input), expected);
    });
  }

  it("agrees with the WHATWG URL parser on the IPv4 forms it canonicalises", () => {
    for (const host of ["2130706434", "0x7f000002", "0177.0.0.1", "127.1", "0x7f.1", "10.1"]) {
      const viaUrl = new URL(`http://${host}/`).hostname;
      assert.equal(parseHostAddress(host), viaUrl);
      assert.equal(parseHostAddress(viaUrl), viaUrl);
    }
  });

  it("returns literals node:net accepts", () => {
    for (const host of ["2130706434", "[::ffff:127.0.0.2]", "[2002:0a00:0001::]", "0x7f.1"]) {
      const ip = parseHostAddress(host);
      assert.ok(ip !== null && net.isIP(ip) !== 0, `${host} → ${ip}`);
    }
  });
});

describe("createAddressPolicy", () => {
  it("allows only public addresses by default", () => {
    const policy = createAddressPolicy([]);
    for (const ip of ["8.8.8.8", "2606:4700::1", "::ffff:8.8.8.8"]) {
      assert.equal(policy.allows(ip), true, ip);
      assert.equal(policy.explain(ip), null, ip);
    }
    for (const ip of [
      "127.0.0.1",
      "10.0.0.1",
      "169.254.169.254",
      "::1",
      "fe80::1",
      "::ffff:10.0.0.1",
      "0.0.0.0",
    ]) {
      assert.equal(policy.allows(ip), false, ip);
    }
  });

  it("explains why an address is refused", () => {
    const policy = createAddressPolicy([]);
    assert.equal(policy.explain("127.0.0.2"), "127.0.0.2 is a loopback address");
    assert.equal(policy.explain("10.0.0.1"), "10.0.0.1 is a private address");
    assert.equal(policy.explain("::"), ":: is an unspecified address");
    assert.equal(policy.explain("0x7f000002"), "127.0.0.2 is a loopback address");
    assert.equal(
      policy.explain("::ffff:10.0.0.1"),
      "::ffff:10.0.0.1 is a private address (it embeds 10.0.0.1)",
    );
    assert.equal(
      policy.explain("64:ff9b::a00:1"),
      "64:ff9b::a00:1 is a private address (it embeds 10.0.0.1)",
    );
    assert.match(policy.explain("not-an-ip") ?? "", /not an IP address/);
    assert.equal(policy.allows("not-an-ip"), false);
  });

  it("allows addresses inside an allow CIDR whatever their class", () => {
    const policy = createAddressPolicy(["127.0.0.0/8", "::1/128", "10.0.0.0/8"]);
    for (const ip of ["127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "8.8.8.8"]) {
      assert.equal(policy.allows(ip), true, ip);
    }
    for (const ip of ["192.168.0.1", "169.254.169.254", "::2", "fe80::1", "0.0.0.0", "::ffff:192.168.0.1"]) {
      assert.equal(policy.allows(ip), false, ip);
    }
  });

  it("treats a bare IP as a single-address CIDR", () => {
    const policy = createAddressPolicy(["127.0.0.1", "fd00::5"]);
    assert.equal(policy.allows("127.0.0.1"), true);
    assert.equal(policy.allows("127.0.0.2"), false);
    assert.equal(policy.allows("fd00::5"), true);
    assert.equal(policy.allows("fd00::6"), false);
  });

  it("matches IPv4-mapped IPv6 against IPv4 CIDRs, and IPv4 against mapped CIDRs", () => {
    const v4 = createAddressPolicy(["10.0.0.0/8"]);
    assert.equal(v4.allows("::ffff:10.9.8.7"), true);
    assert.equal(v4.allows("::ffff:a09:807"), true);
    assert.equal(v4.allows("::ffff:192.168.0.1"), false);
    // Only the mapped form: other transition forms are not matched against IPv4 CIDRs.
    assert.equal(v4.allows("64:ff9b::a00:1"), false);
    const mapped = createAddressPolicy(["::ffff:127.0.0.0/104"]);
    assert.equal(mapped.allows("127.0.0.5"), true);
    assert.equal(mapped.allows("128.0.0.5"), true); // public anyway
    assert.equal(mapped.allows("10.0.0.1"), false);
  });

  it("rejects invalid CIDRs", () => {
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/x",
      "example.com/8",
      "",
      "10.0.0.0/08",
    ]) {
      assert.throws(() => createAddressPolicy([bad]), TypeError, bad);
      assert.equal(isValidCidr(bad), false, bad);
    }
    for (const good of ["10.0.0.0/8", "::1/128", "127.0.0.1", "::/0", "0.0.0.0/0"]) {
      assert.equal(isValidCidr(good), true, good);
    }
  });
});

describe("isLocalhostName", () => {
  it("matches localhost, localhost. and *.localhost only", () => {
    for (const name of ["localhost", "LOCALHOST", "localhost.", "foo.localhost", "a.b.localhost."]) {
      assert.equal(isLocalhostName(name), true, name);
    }
    for (const name of ["localhost.com", "notlocalhost", "example.com", "localhostx"]) {
      assert.equal(isLocalhostName(name), false, name);
    }
  });
});

describe("checkTargetUrl", () => {
  const strict = createAddressPolicy([]);
  const loopbackV4 = createAddressPolicy(["127.0.0.1/32"]);
  const loopbackBoth = createAddressPolicy(["127.0.0.0/8", "::1/128"]);

  const refused = (url: string, policy = strict): string => {
    const result = checkTargetUrl(url, policy);
    assert.equal(result.ok, false, url);
    return result.ok ? "" : result.reason;
  };

  it("accepts public http(s) targets, names included, without resolving them", () => {
    for (const url of [
      "https://hooks.slack.com/x",
      "http://example.com:8080/path?q=1",
      "https://8.8.8.8/hook",
      "https://[2606:4700::1]/hook",
      "https://127.0.0.1.nip.io/hook", // checked after DNS at send time
    ]) {
      assert.deepEqual(checkTargetUrl(url, strict), { ok: true }, url);
    }
  });

  it("refuses what does not parse, other schemes and userinfo", () => {
    assert.match(refused("not a url"), /not valid/);
    assert.match(refused("ftp://example.com/file"), /ftp:/);
    assert.match(refused("file:///etc/passwd"), /file:/);
    assert.match(refused("javascript:alert(1)"), /javascript:/);
    assert.match(refused("https://user:pass@example.com/"), /credentials/);
    assert.match(refused("https://user@example.com/"), /credentials/);
  });

  it("refuses IP literals in any form that the policy does not allow", () => {
    assert.equal(refused("http://0x7f000002/"), "127.0.0.2 is a loopback address");
    assert.equal(refused("http://2130706434/"), "127.0.0.2 is a loopback address");
    assert.equal(refused("http://127.1/"), "127.0.0.1 is a loopback address");
    assert.equal(refused("http://0177.0.0.1/"), "127.0.0.1 is a loopback address");
    assert.match(refused("http://[::ffff:127.0.0.2]/"), /^::ffff:127\.0\.0\.2 is a loopback address/);
    assert.equal(refused("http://[::1]:8080/"), "::1 is a loopback address");
    assert.equal(refused("http://10.0.0.1/"), "10.0.0.1 is a private address");
    assert.equal(
      refused("http://169.254.169.254/latest/meta-data/"),
      "169.254.169.254 is a link-local address",
    );
    assert.equal(refused("http://[fe80::1]/"), "fe80::1 is a link-local address");
    assert.equal(refused("http://0.0.0.0/"), "0.0.0.0 is an unspecified address");
  });

  it("treats localhost names as 127.0.0.1 and ::1, both of which must be allowed", () => {
    assert.match(refused("http://localhost/"), /^localhost is loopback: 127\.0\.0\.1 is a loopback address/);
    assert.match(refused("http://foo.localhost/"), /loopback/);
    assert.match(refused("http://localhost./"), /loopback/);
    // 127.0.0.1 allowed but ::1 not: still refused.
    assert.match(refused("http://localhost:3000/", loopbackV4), /::1 is a loopback address/);
    assert.deepEqual(checkTargetUrl("http://localhost:3000/", loopbackBoth), { ok: true });
    assert.deepEqual(checkTargetUrl("http://foo.localhost/", loopbackBoth), { ok: true });
  });

  it("accepts loopback literals that the allow list covers", () => {
    assert.deepEqual(checkTargetUrl("http://127.0.0.1:8080/", loopbackV4), { ok: true });
    assert.deepEqual(checkTargetUrl("http://2130706433/", loopbackV4), { ok: true });
    assert.deepEqual(checkTargetUrl("http://[::ffff:127.0.0.1]/", loopbackV4), { ok: true });
    assert.equal(checkTargetUrl("http://127.0.0.2/", loopbackV4).ok, false);
    assert.deepEqual(checkTargetUrl("http://[::1]:8080/", loopbackBoth), { ok: true });
  });
});
