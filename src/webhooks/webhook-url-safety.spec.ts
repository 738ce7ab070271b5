import { createServer, Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  blockedCategory,
  destinationProblem,
  guardedLookup,
  urlSyntaxProblem,
} from './webhook-url-safety';

describe('blockedCategory', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.99', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['localhost', 'invalid'],
    ['not an address', 'invalid'],
  ])('blocks %s (%s)', (address, category) => {
    expect(blockedCategory(address)).toBe(category);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '93.184.215.14',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('lets the public address %s through', (address) => {
    expect(blockedCategory(address)).toBeNull();
  });
});

describe('urlSyntaxProblem', () => {
  it('accepts absolute http and https URLs', () => {
    expect(urlSyntaxProblem('https://hooks.example.com/in?x=1')).toBeNull();
    expect(urlSyntaxProblem('http://127.0.0.1:8080/hook')).toBeNull();
    expect(urlSyntaxProblem('https://[2606:4700::1]/hook')).toBeNull();
  });

  it.each([
    ['hooks.example.com/in', /absolute/],
    ['/relative/path', /absolute/],
    ['ftp://example.com/x', /absolute/],
    ['javascript:alert(1)', /absolute/],
    ['file:///etc/passwd', /absolute/],
    ['https://user:pass@example.com/x', /credentials/],
    ['https://token@example.com/x', /credentials/],
    [`https://example.com/${'a'.repeat(2000)}`, /at most 2000/],
  ])('refuses %s', (url, message) => {
    expect(urlSyntaxProblem(url)).toMatch(message);
  });
});

describe('destinationProblem', () => {
  it('allows plain http and private addresses when private networks are allowed', async () => {
    await expect(destinationProblem('http://127.0.0.1:1/x', true)).resolves.toBeNull();
    await expect(destinationProblem('http://10.0.0.1/x', true)).resolves.toBeNull();
  });

  it('otherwise wants https and a host whose every address is public', async () => {
    await expect(destinationProblem('http://93.184.215.14/x', false)).resolves.toBe(
      'must use https',
    );
    await expect(destinationProblem('https://93.184.215.14/x', false)).resolves.toBeNull();
    await expect(destinationProblem('https://127.0.0.1/x', false)).resolves.toMatch(/loopback/);
    await expect(destinationProblem('https://[::1]/x', false)).resolves.toMatch(/loopback/);
    await expect(destinationProblem('https://[::ffff:10.0.0.1]/x', false)).resolves.toMatch(
      /private/,
    );
    await expect(destinationProblem('https://2130706433/x', false)).resolves.toMatch(/loopback/);
    await expect(destinationProblem('https://localhost/x', false)).resolves.toMatch(/loopback/);
  });
});

describe('guardedLookup', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses to connect a socket to a name that resolves to loopback', async () => {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const req = request(`https://localhost:${port}/`, { lookup: guardedLookup }, () =>
        resolve(new Error('connected')),
      );
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('EADDRBLOCKED');
    expect(error.message).toMatch(/loopback/);
  });
});
