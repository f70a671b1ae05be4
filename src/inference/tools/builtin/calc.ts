import { z } from 'zod';
import { defineTool } from '../tool-definition';

/**
 * Arithmetic for the `calc` tool, parsed and evaluated here by recursive descent: never
 * `eval`/`Function`. The argument is untrusted (the model writes it, a prompt can steer it).
 *
 * Grammar (whitespace = space or tab, allowed between tokens):
 *
 *   expr    := term   (('+' | '-') term)*           left-associative
 *   term    := unary  (('*' | '/' | '%') unary)*    left-associative
 *   unary   := ('+' | '-') unary | power
 *   power   := primary ('^' unary)?                 right-associative: 2^3^2 = 2^9
 *   primary := number | '(' expr ')'
 *   number  := digit+ ('.' digit*)? | '.' digit+    e.g. 3, 3.5, 3., .5 (no exponent form)
 *
 * So `^` binds tighter than a unary minus on its left (`-2^2 = -4`, `(-2)^2 = 4`) and its
 * exponent may carry a sign (`2^-1 = 0.5`). `%` is JavaScript's remainder (sign of the
 * dividend: `-7 % 3 = -1`). `**` is rejected (use `^`). Errors: any other character (letters,
 * `;`, `,`, `=`, `e` notation, newlines, …), an empty expression, a missing operand, unbalanced
 * parentheses, division or remainder by zero, and any non-finite intermediate value (overflow,
 * `(-8)^0.5`). Length is capped at {@link MAX_EXPRESSION_LENGTH} characters and nesting at
 * {@link MAX_NESTING_DEPTH} levels.
 */

export const MAX_EXPRESSION_LENGTH = 1000;
export const MAX_NESTING_DEPTH = 200;

export class ArithmeticError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArithmeticError';
  }
}

type OpChar = '+' | '-' | '*' | '/' | '%' | '^' | '(' | ')';
type Token =
  | { kind: 'num'; value: number; text: string; pos: number }
  | { kind: 'op'; op: OpChar; pos: number }
  | { kind: 'end'; pos: number };

const OPS: ReadonlySet<string> = new Set<OpChar>(['+', '-', '*', '/', '%', '^', '(', ')']);

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp >= 0x21 && cp <= 0x7e ? `'${c}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(expr[i + 1]))) {
      const start = i;
      while (isDigit(expr[i])) i++;
      if (expr[i] === '.') {
        i++;
        while (isDigit(expr[i])) i++;
      }
      if (expr[i] === '.') throw new ArithmeticError(`malformed number at position ${start + 1}`);
      const text = expr.slice(start, i);
      tokens.push({ kind: 'num', value: Number(text), text, pos: start });
      continue;
    }
    if (OPS.has(c)) {
      if (c === '*' && expr[i + 1] === '*') throw new ArithmeticError(`'**' is not supported at position ${i + 1}; use '^' for powers`);
      tokens.push({ kind: 'op', op: c as OpChar, pos: i });
      i++;
      continue;
    }
    if (c === '.') throw new ArithmeticError(`malformed number at position ${i + 1}`);
    const ch = String.fromCodePoint(expr.codePointAt(i)!);
    throw new ArithmeticError(`unexpected character ${describeChar(ch)} at position ${i + 1}: only numbers, + - * / % ^ and parentheses are allowed`);
  }
  tokens.push({ kind: 'end', pos: expr.length });
  return tokens;
}

function finite(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new ArithmeticError(`${what} is not a finite number`);
  return value;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const v = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') {
      if (t.kind === 'op' && t.op === ')') throw new ArithmeticError(`unbalanced parentheses: unexpected ')' at position ${t.pos + 1}`);
      throw new ArithmeticError(`unexpected ${this.describe(t)} at position ${t.pos + 1}`);
    }
    return v;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isOp(...ops: string[]): string | null {
    const t = this.peek();
    return t.kind === 'op' && ops.includes(t.op) ? t.op : null;
  }

  private describe(t: Token): string {
    if (t.kind === 'end') return 'end of expression';
    if (t.kind === 'num') return `number ${t.text}`;
    return `'${t.op}'`;
  }

  private expr(): number {
    let v = this.term();
    for (let op = this.isOp('+', '-'); op; op = this.isOp('+', '-')) {
      this.i++;
      const r = this.term();
      v = finite(op === '+' ? v + r : v - r, 'result');
    }
    return v;
  }

  private term(): number {
    let v = this.unary();
    for (let op = this.isOp('*', '/', '%'); op; op = this.isOp('*', '/', '%')) {
      this.i++;
      const r = this.unary();
      if (op === '*') v = finite(v * r, 'result');
      else if (r === 0) throw new ArithmeticError(op === '/' ? 'division by zero' : 'remainder by zero');
      else v = finite(op === '/' ? v / r : v % r, 'result');
    }
    return v;
  }

  private unary(): number {
    if (++this.depth > MAX_NESTING_DEPTH) throw new ArithmeticError(`expression is nested too deeply (max ${MAX_NESTING_DEPTH})`);
    try {
      const op = this.isOp('+', '-');
      if (op) {
        this.i++;
        const v = this.unary();
        return op === '-' ? -v : v;
      }
      return this.power();
    } finally {
      this.depth--;
    }
  }

  private power(): number {
    const base = this.primary();
    if (!this.isOp('^')) return base;
    this.i++;
    const exp = this.unary();
    return finite(Math.pow(base, exp), `${base}^${exp}`);
  }

  private primary(): number {
    const t = this.peek();
    if (t.kind === 'num') {
      this.i++;
      return finite(t.value, `number ${t.text}`);
    }
    if (t.kind === 'op' && t.op === '(') {
      this.i++;
      const v = this.expr();
      const close = this.peek();
      if (!(close.kind === 'op' && close.op === ')')) {
        throw new ArithmeticError(`unbalanced parentheses: expected ')' for '(' at position ${t.pos + 1}, got ${this.describe(close)}`);
      }
      this.i++;
      return v;
    }
    throw new ArithmeticError(`expected a number or '(' at position ${t.pos + 1}, got ${this.describe(t)}`);
  }
}

/** Evaluates an arithmetic expression (grammar above); throws {@link ArithmeticError} otherwise. */
export function evaluateArithmetic(expr: string): number {
  if (typeof expr !== 'string') throw new ArithmeticError('expression must be a string');
  if (expr.length > MAX_EXPRESSION_LENGTH) throw new ArithmeticError(`expression is too long (max ${MAX_EXPRESSION_LENGTH} characters)`);
  if (expr.trim() === '') throw new ArithmeticError('empty expression');
  const v = new Parser(tokenize(expr)).parse();
  return v === 0 ? 0 : v; // no -0 in answers
}

export const calcTool = defineTool({
  name: 'calc',
  description:
    'Evaluate an arithmetic expression exactly as written: numbers (decimals allowed), + - * / % (remainder), ^ (power, right-associative), parentheses and unary minus. No variables or functions.',
  schema: z.object({
    expression: z.string().max(MAX_EXPRESSION_LENGTH).describe("The arithmetic expression, e.g. '(4*5)-1' or '2^10 / 3'"),
  }),
  run: ({ expression }) => ({ expression, result: evaluateArithmetic(expression) }),
});
