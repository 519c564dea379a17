/**
 * JSON numbers read from their text (reports.md 1.4): a price sent as the
 * JSON number `2.40` must reach the database as `2.40`, and `1e2` must be
 * refused, neither of which survives `JSON.parse`. The body parser keeps the
 * raw text (src/http/body-parsers.ts); the price-list writes re-read it here,
 * each number becoming a JsonNumber holding its exact text, so that a DTO
 * rule can accept it where a decimal is expected and every other rule
 * (a string, an array) still refuses it.
 *
 * The text has already been parsed once by the body parser (valid JSON,
 * depth and prototype checks done), so this reader only rebuilds the value.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

export function parseExactJson(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw new SyntaxError(`not JSON at offset ${i}`);
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '"') break;
      else i++;
    }
    if (text[i] !== '"') fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const object: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return object;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        // defineProperty: a key such as "__proto__" stays an ordinary field.
        Object.defineProperty(object, key, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return object;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const array: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return array;
      }
      for (;;) {
        array.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return array;
        }
        fail();
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return new JsonNumber(m[0]);
    }
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return literal;
      }
    }
    return fail();
  };
  const result = value();
  ws();
  if (i !== text.length) fail();
  return result;
}

/** The exact text of a validated decimal input (a string, or a JSON number read from its text). */
export function decimalText(value: string | JsonNumber): string {
  return value instanceof JsonNumber ? value.text : value;
}
