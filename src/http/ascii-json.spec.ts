import { asciiJson } from './ascii-json';

describe('asciiJson', () => {
  it('escapes every character past U+007F as Python json.dumps does, surrogate pairs as two escapes, and means the same', () => {
    const value = { name: 'José', note: 'naïve ☃ 😀', plain: 'a"b\\c', n: 1 };
    const text = asciiJson(JSON.stringify(value));
    expect(text).toBe('{"name":"Jos\\u00e9","note":"na\\u00efve \\u2603 \\ud83d\\ude00","plain":"a\\"b\\\\c","n":1}');
    expect(/^[\x00-\x7f]*$/.test(text)).toBe(true);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('leaves ASCII JSON as it is', () => {
    expect(asciiJson('{"a":[1,"x"]}')).toBe('{"a":[1,"x"]}');
  });
});
