/** A hardened sax front end: own namespace scopes, limits on hostile input, and a stop at the first XML error. */
import { StringDecoder } from 'node:string_decoder';
import sax from 'sax';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * Bounds for hostile answers. A SuperOffice answer nests about 8 levels and carries a handful of attributes
 * per element; these leave a wide margin and keep the cost of an attack linear and small.
 */
export const XML_LIMITS = {
  /** Attributes on one element (sax checks duplicates against the earlier ones, so many would cost time). */
  attributesPerElement: 64,
  /** Nesting depth of elements. */
  depth: 64,
} as const;

/** The input is not well-formed XML, or breaks one of the limits above. */
export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';
}

/** Prefix -> namespace URI; a child scope is created (as a prototype child) only where an element declares namespaces. */
type Scope = Record<string, string>;

const ROOT_SCOPE: Scope = Object.assign(Object.create(null) as Scope, { xml: XML_NS, xmlns: XMLNS_NS });

/** What a reader does with the elements; `open` and `close` are strictly nested. */
export interface XmlHandler {
  /**
   * An element starts. `local` is its name without prefix, `ns` its namespace URI ('' for none), `nil` whether it
   * carries xsi:nil="true". During this call SaxDriver.attributes() resolves its attributes (it allocates: only
   * call it when they are needed).
   */
  open(local: string, ns: string, nil: boolean): void;
  /** Character data directly inside the current element (entities decoded; may come in several pieces). */
  text(text: string): void;
  close(): void;
}

function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return end < 0 ? message : message.slice(0, end);
}

/**
 * Feeds bytes (or text) through sax into an XmlHandler. Namespaces are resolved here from a scope stack that
 * only grows where an element declares namespaces (sax's own xmlns mode costs quadratic time in the number of
 * attributes). The first XML error, or the first broken limit, ends the parse with an XmlSyntaxError: sax by
 * itself keeps going and reports one error per following character.
 */
export class SaxDriver {
  private readonly parser: sax.SAXParser;
  private readonly decoder = new StringDecoder('utf8');
  private readonly scopes: Scope[] = [ROOT_SCOPE];
  private attributeCount = 0;
  private declaresNamespaces = false;
  private nilPrefixes: string[] | null = null;
  private sawRoot = false;
  private currentTag: sax.Tag | null = null;
  private currentScope: Scope = ROOT_SCOPE;
  private failure: XmlSyntaxError | null = null;
  /** Characters fed so far, for messages (and for sax's buffer-length checks, see write()). */
  private fed = 0;

  constructor(private readonly handler: XmlHandler) {
    // position: false saves per-character bookkeeping on big answers; write() keeps sax's buffer checks alive.
    const parser = sax.parser(true, { position: false });
    this.parser = parser;
    parser.onerror = (error) => {
      throw this.fail(`not well-formed XML: ${firstLine(error.message)} (near character ${this.fed})`);
    };
    parser.ondoctype = () => {
      throw this.fail('not a SOAP answer: a DOCTYPE is not allowed');
    };
    parser.onattribute = (attribute) => {
      if (++this.attributeCount > XML_LIMITS.attributesPerElement) {
        throw this.fail(`an element has more than ${XML_LIMITS.attributesPerElement} attributes (near character ${this.fed})`);
      }
      const name = attribute.name;
      if (name.charCodeAt(0) === 120 /* x */ && (name === 'xmlns' || name.startsWith('xmlns:'))) this.declaresNamespaces = true;
      else if (name === 'nil' || name.endsWith(':nil')) {
        this.nilPrefixes ??= [];
        this.nilPrefixes.push(name);
      }
    };
    parser.onopentag = (tag) => this.onOpen(tag as sax.Tag);
    parser.onclosetag = () => {
      this.scopes.pop();
      this.handler.close();
    };
    parser.ontext = (text) => this.handler.text(text);
    parser.oncdata = (text) => this.handler.text(text);
  }

  /** Parses the next piece. Throws XmlSyntaxError (and whatever the handler throws); then the driver is done. */
  write(chunk: Buffer | string): void {
    if (this.failure) throw this.failure;
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (text.length === 0) return;
    this.fed += text.length;
    // Without position tracking sax never advances `position`, and it compares `position` with its next
    // buffer-check mark after each write to flush long text and reject over-long names and attribute values
    // (64 KiB). Advancing it by hand keeps those checks.
    (this.parser as unknown as { position: number }).position = this.fed;
    this.parser.write(text);
  }

  /** The document is complete. Throws XmlSyntaxError when it is not (unclosed elements, no root). */
  end(): void {
    if (this.failure) throw this.failure;
    const rest = this.decoder.end();
    if (rest) this.write(rest);
    this.parser.close();
    if (!this.sawRoot) throw this.fail('not XML: no root element');
  }

  /** Characters parsed so far. */
  get characters(): number {
    return this.fed;
  }

  private fail(message: string): XmlSyntaxError {
    this.failure ??= new XmlSyntaxError(message);
    return this.failure;
  }

  private onOpen(tag: sax.Tag): void {
    if (this.scopes.length > XML_LIMITS.depth) {
      throw this.fail(`elements nested deeper than ${XML_LIMITS.depth} levels (near character ${this.fed})`);
    }
    if (this.scopes.length === 1 && this.sawRoot) throw this.fail('not well-formed XML: more than one root element');
    this.sawRoot = true;
    let scope = this.scopes[this.scopes.length - 1] as Scope;
    if (this.declaresNamespaces) {
      scope = Object.create(scope) as Scope;
      for (const name of Object.keys(tag.attributes)) {
        if (name === 'xmlns') scope[''] = tag.attributes[name] as string;
        else if (name.startsWith('xmlns:')) scope[name.slice(6)] = tag.attributes[name] as string;
      }
    }
    this.scopes.push(scope);
    const name = tag.name;
    const colon = name.indexOf(':');
    let local = name;
    let ns: string;
    if (colon < 0) ns = scope[''] ?? '';
    else {
      const prefix = name.slice(0, colon);
      local = name.slice(colon + 1);
      const uri = scope[prefix];
      if (uri === undefined) throw this.fail(`not well-formed XML: unbound namespace prefix "${prefix}" (near character ${this.fed})`);
      ns = uri;
    }
    let nil = false;
    if (this.nilPrefixes) {
      for (const attribute of this.nilPrefixes) {
        const value = tag.attributes[attribute];
        if ((value === 'true' || value === '1') && this.attributeNamespace(attribute, scope) === XSI_NS) nil = true;
      }
    }
    // Reset here rather than in onopentagstart (one event less per element): the next tag's attributes come after.
    this.attributeCount = 0;
    this.declaresNamespaces = false;
    this.nilPrefixes = null;
    this.currentTag = tag;
    this.currentScope = scope;
    this.handler.open(local, ns, nil);
    this.currentTag = null;
  }

  /** The attributes of the element being opened, keyed by `{uri}local` (or `local` without a namespace); namespace declarations left out. */
  attributes(): Record<string, string> {
    const tag = this.currentTag;
    if (!tag) throw new Error('SaxDriver.attributes() is only available inside XmlHandler.open');
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const uri = this.attributeNamespace(name, this.currentScope);
      const local = name.slice(name.indexOf(':') + 1);
      out[uri ? `{${uri}}${local}` : local] = value;
    }
    return out;
  }

  private attributeNamespace(name: string, scope: Scope): string {
    const colon = name.indexOf(':');
    // Unprefixed attributes are in no namespace (the default namespace does not apply to them).
    if (colon < 0) return '';
    const prefix = name.slice(0, colon);
    const uri = scope[prefix];
    if (uri === undefined) throw this.fail(`not well-formed XML: unbound namespace prefix "${prefix}" (near character ${this.fed})`);
    return uri;
  }
}
