import sax from 'sax';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** A namespace-aware element tree; just enough XML for SOAP envelopes. */
export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI ('' when none). */
  ns: string;
  /** Attributes keyed by `{uri}local` (or `local` without a namespace). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';
}

export function parseXml(xml: string): XmlElement {
  const parser = sax.parser(true, { xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let failure: Error | null = null;

  parser.onerror = (err) => {
    failure ??= err;
  };
  parser.onopentag = (tag) => {
    if (!('uri' in tag)) return;
    const attributes: Record<string, string> = {};
    for (const attr of Object.values(tag.attributes)) {
      if (typeof attr === 'string') continue;
      if (attr.prefix === 'xmlns' || attr.name === 'xmlns') continue;
      attributes[attr.uri ? `{${attr.uri}}${attr.local}` : attr.local] = attr.value;
    }
    const element: XmlElement = { name: tag.local, ns: tag.uri, attributes, children: [], text: '' };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else if (root) failure ??= new Error('more than one root element');
    else root = element;
    stack.push(element);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  const onText = (text: string) => {
    const current = stack.at(-1);
    if (current) current.text += text;
  };
  parser.ontext = onText;
  parser.oncdata = onText;

  try {
    parser.write(xml).close();
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err));
  }
  if (failure) throw new XmlSyntaxError(`not well-formed XML: ${firstLine((failure as Error).message)}`);
  if (!root) throw new XmlSyntaxError('not XML: no root element');
  return root;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
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
