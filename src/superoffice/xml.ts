/** A small namespace-aware element tree for SOAP envelopes (headers, faults, login answers), with bounds for hostile input. */
import { SaxDriver, XmlSyntaxError, XSI_NS, type XmlHandler } from './sax-driver.ts';

export { XmlSyntaxError, XSI_NS };

/** A namespace-aware element tree; just enough XML for SOAP envelopes. */
export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI ('' when none). */
  ns: string;
  /** Attributes keyed by `{uri}local` (or `local` without a namespace). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (at most TREE_LIMITS.textPerElement characters are kept). */
  text: string;
}

export const TREE_LIMITS = {
  /** Elements in one tree: far above any envelope, header or fault SuperOffice sends. */
  elements: 100_000,
  /** Characters of text kept per element; the rest is dropped (messages quote at most a few hundred). */
  textPerElement: 1024 * 1024,
} as const;

/**
 * Builds XmlElements from driver events. Used for whole documents (parseXml) and, by the streaming batch
 * reader, for the small parts of an answer that are not the task list (headers, faults).
 */
export class TreeBuilder {
  private readonly stack: XmlElement[] = [];
  private elements = 0;

  constructor(
    private readonly driver: () => SaxDriver,
    private readonly maxElements: number = TREE_LIMITS.elements,
  ) {}

  /** Opens an element; the first one opened while the stack is empty is a new root, handed to `onRoot`. */
  open(local: string, ns: string, onRoot?: (root: XmlElement) => void): void {
    if (++this.elements > this.maxElements) {
      throw new XmlSyntaxError(`more than ${this.maxElements} elements outside the task list`);
    }
    const element: XmlElement = { name: local, ns, attributes: this.driver().attributes(), children: [], text: '' };
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(element);
    else onRoot?.(element);
    this.stack.push(element);
  }

  text(text: string): void {
    const current = this.stack[this.stack.length - 1];
    if (current && current.text.length < TREE_LIMITS.textPerElement) {
      current.text +=
        text.length + current.text.length > TREE_LIMITS.textPerElement
          ? text.slice(0, TREE_LIMITS.textPerElement - current.text.length)
          : text;
    }
  }

  /** Closes the current element; true when that was a root (the stack is empty again). */
  close(): boolean {
    this.stack.pop();
    return this.stack.length === 0;
  }
}

/** Parses a whole document into a tree. Throws XmlSyntaxError at the first error or broken limit. */
export function parseXml(xml: string): XmlElement {
  let root: XmlElement | null = null;
  const tree = new TreeBuilder(() => driver);
  const handler: XmlHandler = {
    open: (local, ns) => tree.open(local, ns, (element) => (root = element)),
    text: (text) => tree.text(text),
    close: () => void tree.close(),
  };
  const driver = new SaxDriver(handler);
  // Fed in pieces so that sax's buffer-length checks run (see SaxDriver.write).
  const PIECE = 64 * 1024;
  for (let at = 0; at < xml.length; at += PIECE) driver.write(xml.slice(at, at + PIECE));
  driver.end();
  if (!root) throw new XmlSyntaxError('not XML: no root element');
  return root;
}

export function childElements(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name);
}

export function childElement(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}

export function isNil(element: XmlElement): boolean {
  const nil = element.attributes[`{${XSI_NS}}nil`];
  return nil === 'true' || nil === '1';
}

/** Text content, or null when the element is absent or xsi:nil. */
export function textOrNull(element: XmlElement | undefined): string | null {
  if (!element || isNil(element)) return null;
  return element.text;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };
