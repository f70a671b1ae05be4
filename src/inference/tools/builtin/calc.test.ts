import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { calcTool, evaluateArithmetic, MAX_NESTING_DEPTH } from './calc';
import { DefaultToolExecutor } from '../default-tool-executor';
import { call, makeCtx } from '../test-helpers';

describe('evaluateArithmetic: results', () => {
  const table: [string, number][] = [
    ['2+3', 5],
    ['(4*5)-1', 19],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3], // left-associative
    ['100 / 10 / 5', 2],
    ['2^3^2', 512], // right-associative
    ['(2^3)^2', 64],
    ['-2^2', -4], // ^ binds tighter than a unary minus on its left
    ['(-2)^2', 4],
    ['2^-1', 0.5],
    ['-3 * -2', 6],
    ['--3', 3],
    ['+4', 4],
    ['2 - -1', 3],
    ['1.5 * 4', 6],
    ['.5 + 1.', 1.5],
    ['0.1 + 0.2', 0.1 + 0.2],
    ['7 % 3', 1],
    ['-7 % 3', -1], // JavaScript remainder: sign of the dividend
    ['7.5 % 2', 1.5],
    ['2 * 3 % 4', 2], // same precedence as * and /, left to right
    ['\t( ( 42 ) )\t', 42],
    ['1 - 2 ^ 2 * 3', -11],
    ['0 * -1', 0],
    ['-0', 0],
    ['007', 7],
  ];
  for (const [expr, value] of table) {
    it(`${JSON.stringify(expr)} = ${value}`, () => {
      expect(evaluateArithmetic(expr)).toBeCloseTo(value, 12);
      expect(Object.is(evaluateArithmetic(expr), -0)).toBe(false);
    });
  }
});

describe('evaluateArithmetic: rejections', () => {
  const rejected: [string, RegExp][] = [
    ['2+', /expected a number or '\(' at position 3, got end of expression/],
    ['(1', /unbalanced parentheses/],
    ['1)', /unbalanced parentheses/],
    ['1/0', /division by zero/],
    ['5 % 0', /remainder by zero/],
    ['1/(2-2)', /division by zero/],
    ['abc', /unexpected character 'a' at position 1/],
    ['process.exit()', /unexpected character 'p'/],
    ['1;2', /unexpected character ';'/],
    ['constructor', /unexpected character 'c'/],
    ['2**3', /'\*\*' is not supported.*use '\^'/], // decision: ** is rejected, ^ is the power operator
    ['', /empty expression/],
    ['   ', /empty expression/],
    ['()', /expected a number/],
    ['1 2', /unexpected number 2/],
    ['1.2.3', /malformed number/],
    ['.', /malformed number/],
    ['1e3', /unexpected character 'e'/],
    ['2,5', /unexpected character ','/],
    ['1\n+1', /unexpected character U\+000A/],
    ['10^400', /not a finite number/],
    ['(-8)^0.5', /not a finite number/],
    ['9'.repeat(400), /not a finite number/],
    ['x'.repeat(1001), /too long/],
  ];
  for (const [expr, message] of rejected) {
    it(`rejects ${JSON.stringify(expr.length > 30 ? expr.slice(0, 30) + '…' : expr)}`, () => {
      expect(() => evaluateArithmetic(expr)).toThrow(message);
    });
  }

  it('bounds nesting instead of overflowing the stack', () => {
    const deep = '('.repeat(MAX_NESTING_DEPTH + 1) + '1' + ')'.repeat(MAX_NESTING_DEPTH + 1);
    expect(() => evaluateArithmetic(deep)).toThrow(/nested too deeply/);
    expect(() => evaluateArithmetic('-'.repeat(500) + '1')).toThrow(/nested too deeply/);
    const ok = '('.repeat(50) + '1' + ')'.repeat(50);
    expect(evaluateArithmetic(ok)).toBe(1);
  });
});

describe('evaluateArithmetic: properties', () => {
  const ALLOWED = new Set('0123456789.+-*/%^() \t');
  const allowedChar = fc.constantFrom(...ALLOWED);

  it('rejects any string with a character outside [0-9.+-*/%^() \\t] (it never evaluates)', () => {
    const forbidden = fc
      .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('e', 'x', ';', ',', '=', '\n', '[', '!', '"', '`', '$', '_'))
      .filter((c) => ![...c].some((ch) => ALLOWED.has(ch)));
    const filler = fc.string({ unit: allowedChar, maxLength: 20 });
    fc.assert(
      fc.property(filler, forbidden, filler, (a, bad, b) => {
        expect(() => evaluateArithmetic(a + bad + b)).toThrow();
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  type Node =
    | { k: 'num'; text: string; v: number }
    | { k: 'neg'; a: Node; paren: boolean }
    | { k: 'bin'; op: '+' | '-' | '*' | '/' | '%' | '^'; a: Node; b: Node; paren: boolean };

  const rarely = fc.integer({ min: 0, max: 4 }).map((x) => x === 0); // extra parentheses, 1 in 5
  const num = fc
    .tuple(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 999 })), fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }))
    .map(([i, f]): Node => {
      const text = f === undefined ? String(i) : `${i}.${String(f).padStart(2, '0')}`;
      return { k: 'num', text, v: Number(text) };
    });
  const { tree } = fc.letrec<{ tree: Node }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: 6, depthSize: 'medium', withCrossShrink: true },
      { arbitrary: num, weight: 2 },
      { arbitrary: fc.record({ k: fc.constant('neg' as const), a: tie('tree'), paren: rarely }), weight: 1 },
      { arbitrary: fc.record({
        k: fc.constant('bin' as const),
        op: fc.constantFrom('+', '-', '*', '/', '%', '^'),
        a: tie('tree'),
        b: tie('tree'),
        paren: rarely,
      }), weight: 3 },
    ),
  }));

  /** Value of the tree, or null when it divides by zero or leaves the finite numbers. */
  function value(n: Node): number | null {
    if (n.k === 'num') return n.v;
    const a = value(n.a);
    if (a === null) return null;
    if (n.k === 'neg') return -a;
    const b = value(n.b);
    if (b === null) return null;
    let r: number;
    switch (n.op) {
      case '+': r = a + b; break;
      case '-': r = a - b; break;
      case '*': r = a * b; break;
      case '/': if (b === 0) return null; r = a / b; break;
      case '%': if (b === 0) return null; r = a % b; break;
      case '^': r = Math.pow(a, b); break;
    }
    return Number.isFinite(r) ? r : null;
  }

  // Binding strength of what a rendering produces: + - 1, * / % 2, unary minus 3, ^ 4, atom 5.
  const PREC = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2, '^': 4 } as const;
  /** Renders with the fewest parentheses the grammar needs (plus the random extra ones). */
  function render(n: Node): { s: string; p: number } {
    let out: { s: string; p: number };
    if (n.k === 'num') return { s: n.text, p: 5 };
    if (n.k === 'neg') {
      const a = render(n.a);
      out = { s: `-${a.p < 3 ? `(${a.s})` : a.s}`, p: 3 };
    } else if (n.op === '^') {
      const a = render(n.a);
      const b = render(n.b);
      // the base must be an atom (-2^2 is -(2^2); 2^3^2 is 2^(3^2)); the exponent is a unary
      out = { s: `${a.p <= 4 ? `(${a.s})` : a.s}^${b.p < 3 ? `(${b.s})` : b.s}`, p: 4 };
    } else {
      const p = PREC[n.op];
      const a = render(n.a);
      const b = render(n.b);
      out = { s: `${a.p < p ? `(${a.s})` : a.s} ${n.op} ${b.p <= p ? `(${b.s})` : b.s}`, p };
    }
    return n.paren ? { s: `( ${out.s} )`, p: 5 } : out;
  }

  it('evaluates generated expressions to the value of their tree', () => {
    let checked = 0;
    fc.assert(
      fc.property(tree, (t) => {
        const expected = value(t);
        if (expected === null) return; // division by zero / non-finite: covered by the rejection tests
        const { s } = render(t);
        if (s.length > 1000) return;
        const got = evaluateArithmetic(s);
        checked++;
        const tol = 1e-9 * Math.max(1, Math.abs(expected));
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(tol);
      }),
      { seed: 42, numRuns: 500 },
    );
    expect(checked).toBeGreaterThan(250); // most trees are valid: the property is not vacuous
  });
});

describe('calcTool', () => {
  it('returns {expression, result}, and a tool error for bad input', async () => {
    const { ctx } = makeCtx([calcTool]);
    const rs = await new DefaultToolExecutor().execute(
      [call('a', 'calc', { expression: '(4*5)-1' }), call('b', 'calc', { expression: 'process.exit()' }), call('c', 'calc', { expression: 'x'.repeat(1001) })],
      ctx,
    );
    expect(rs[0]).toMatchObject({ status: 'completed', result: { expression: '(4*5)-1', result: 19 } });
    expect(rs[1]).toMatchObject({ status: 'error' });
    expect(rs[1]!.error).toMatch(/unexpected character 'p'/);
    expect(rs[2]!.status).toBe('error');
    expect(rs[2]!.error).toMatch(/^invalid arguments: expression:/);
    expect(calcTool.jsonSchema).toMatchObject({ type: 'object', required: ['expression'], properties: { expression: { type: 'string', maxLength: 1000 } } });
  });
});
