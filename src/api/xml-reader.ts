// A small strict XML reader for the subset XMLTV files use: elements, attributes, text, CDATA,
// comments, processing instructions and a DOCTYPE without an internal subset. No entity other
// than XML's five and numeric references is expanded, so entity bombs ("billion laughs") and
// external entities cannot exist; anything else is an error with its line. Pure: text in, tree out.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (children's text not included). */
  text: string;
  /** 1-based line of the element's start tag. */
  line: number;
}

export class XmlError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
  }
}

const MAX_DEPTH = 32;
const NAME = /[A-Za-z_][-A-Za-z0-9_.:]*/y;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Characters XML 1.0 allows in a document (§2.2). */
const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

export function parseXml(text: string): XmlElement {
  return new Reader(text).document();
}

class Reader {
  private pos = 0;

  constructor(private readonly s: string) {
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  document(): XmlElement {
    this.misc(true);
    if (this.s[this.pos] !== '<') this.fail('expected the root element');
    const root = this.element(0);
    this.misc(false);
    if (this.pos < this.s.length) this.fail('text after the root element');
    return root;
  }

  /** Whitespace, comments, processing instructions and (before the root) one DOCTYPE. */
  private misc(prolog: boolean): void {
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('<?', this.pos)) this.skipPast('?>', 'processing instruction');
      else if (this.s.startsWith('<!--', this.pos)) this.skipPast('-->', 'comment');
      else if (prolog && this.s.startsWith('<!DOCTYPE', this.pos)) {
        const end = this.s.indexOf('>', this.pos);
        if (end < 0) this.fail('unterminated DOCTYPE');
        if (this.s.slice(this.pos, end).includes('['))
          this.fail('a DOCTYPE with an internal subset is not allowed (its entities could expand without bound)');
        this.pos = end + 1;
      } else return;
    }
  }

  private element(depth: number): XmlElement {
    if (depth >= MAX_DEPTH) this.fail(`elements nested deeper than ${MAX_DEPTH}`);
    const line = this.lineAt(this.pos);
    this.pos++; // <
    const name = this.name();
    const attributes: Record<string, string> = Object.create(null);
    for (;;) {
      const spaced = this.skipSpace();
      if (this.s.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { name, attributes, children: [], text: '', line };
      }
      if (this.s[this.pos] === '>') break;
      if (!spaced) this.fail(`malformed start tag <${name}>`);
      const attr = this.name();
      this.skipSpace();
      if (this.s[this.pos] !== '=') this.fail(`attribute ${attr} has no value`);
      this.pos++;
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attr}'s value must be quoted`);
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`attribute ${attr}'s value is not closed`);
      const raw = this.s.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail(`attribute ${attr}'s value holds "<"`);
      if (attr in attributes) this.fail(`attribute ${attr} given twice`);
      attributes[attr] = this.decode(raw, this.pos);
      this.pos = end + 1;
    }
    this.pos++; // >
    const el: XmlElement = { name, attributes, children: [], text: '', line };
    this.content(el, depth);
    return el;
  }

  private content(el: XmlElement, depth: number): void {
    for (;;) {
      const lt = this.s.indexOf('<', this.pos);
      if (lt < 0) this.fail(`<${el.name}> (line ${el.line}) is never closed`);
      el.text += this.decode(this.s.slice(this.pos, lt), this.pos);
      this.pos = lt;
      if (this.s.startsWith('</', lt)) {
        this.pos += 2;
        const name = this.name();
        this.skipSpace();
        if (name !== el.name || this.s[this.pos] !== '>') this.fail(`</${name}> does not close <${el.name}> (line ${el.line})`);
        this.pos++;
        return;
      }
      if (this.s.startsWith('<!--', lt)) this.skipPast('-->', 'comment');
      else if (this.s.startsWith('<?', lt)) this.skipPast('?>', 'processing instruction');
      else if (this.s.startsWith('<![CDATA[', lt)) {
        const end = this.s.indexOf(']]>', lt);
        if (end < 0) this.fail('unterminated CDATA section');
        el.text += this.checked(this.s.slice(lt + 9, end), lt);
        this.pos = end + 3;
      } else if (this.s.startsWith('<!', lt)) this.fail('declarations are only allowed before the root element');
      else el.children.push(this.element(depth + 1));
    }
  }

  /** Text with its references replaced: XML's five entities and numeric character references only. */
  private decode(raw: string, at: number): string {
    this.checked(raw, at);
    if (raw.includes(']]>')) this.fail('"]]>" is not allowed in text', at);
    return raw.replace(/&([^;&\s]{0,12})(;?)/g, (_whole, ref: string, semi: string, offset: number) => {
      const where = at + offset;
      if (semi === '') this.fail('"&" must be written &amp;', where);
      const named = PREDEFINED[ref];
      if (named !== undefined) return named;
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      if (m === null) this.fail(`entity &${ref}; is not allowed (only &amp; &lt; &gt; &quot; &apos; and numeric references)`, where);
      const code = Number.parseInt(m[1] ?? m[2] ?? '', m[1] !== undefined ? 16 : 10);
      const char = code <= 0x10ffff ? String.fromCodePoint(code) : '';
      if (char === '' || !XML_CHAR.test(char)) this.fail(`&${ref}; is not a character XML allows`, where);
      return char;
    });
  }

  private checked(raw: string, at: number): string {
    if (!XML_CHAR.test(raw)) {
      const bad = [...raw].findIndex((c) => !XML_CHAR.test(c));
      const offset = [...raw].slice(0, bad).join('').length;
      const code = (raw.codePointAt(offset) as number).toString(16).toUpperCase().padStart(4, '0');
      this.fail(`control character U+${code} is not allowed in XML`, at + offset);
    }
    return raw;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.s);
    if (m === null) this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos] as string)) this.pos++;
    return this.pos > start;
  }

  private skipPast(end: string, what: string): void {
    const at = this.s.indexOf(end, this.pos + 2);
    if (at < 0) this.fail(`unterminated ${what}`);
    this.pos = at + end.length;
  }

  /** Offsets of the newlines, found once: lines are looked up for every element. */
  private newlines: number[] | undefined;

  private lineAt(pos: number): number {
    if (this.newlines === undefined) {
      this.newlines = [];
      for (let i = this.s.indexOf('\n'); i >= 0; i = this.s.indexOf('\n', i + 1)) this.newlines.push(i);
    }
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.newlines[mid] as number) < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  private fail(reason: string, at = this.pos): never {
    throw new XmlError(this.lineAt(at), reason);
  }
}
