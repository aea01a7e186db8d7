/**
 * Streaming reader of a Batch answer: sax events go straight into task records for
 * `...Response/Response/BatchTaskInfo*` (no tree for the task list); the rest of the envelope (headers,
 * faults) is built as a small tree so that it is judged exactly like any other SOAP answer (response.ts).
 */
import type { BatchTaskInfo } from '../core/task.ts';
import {
  FIELD_SLOT,
  newRawTask,
  readTask,
  TASK_LIMITS,
  TASK_FIELDS,
  type RawTask,
  type TaskField,
  type TaskProblem,
} from './batch-task-info.ts';
import { EnvelopeError, SOAP11_NS, SOAP12_NS, type SoapEnvelope } from './envelope.ts';
import { SaxDriver, type XmlHandler } from './sax-driver.ts';
import { TreeBuilder, type XmlElement } from './xml.ts';

/** A task left out of the answer, with its position in the list (1-based, nil entries counted). */
export interface ListedProblem extends TaskProblem {
  index: number;
}

export interface BatchAnswer {
  /** Body's first child, when it is the expected operation, is a stub without children (its tasks are below). */
  envelope: SoapEnvelope;
  tasks: BatchTaskInfo[];
  problems: ListedProblem[];
}

/** What each open element is to the reader. */
enum Kind {
  Envelope,
  Header,
  Body,
  /** Part of a tree being built (a header, a fault, another body element). */
  Tree,
  /** Ignored, with everything inside it. */
  Skip,
  Operation,
  List,
  Task,
  Field,
  Parameters,
  Pair,
  PairKey,
  PairValue,
}

const PIECE = 64 * 1024;

export class BatchResponseReader implements XmlHandler {
  private readonly driver: SaxDriver;
  private readonly tree: TreeBuilder;
  private readonly kinds: Kind[] = [];
  private envelopeNs = '';
  private header: XmlElement | null = null;
  private body: XmlElement | null = null;
  private readonly looseHeaders: XmlElement[] = [];
  private sawList = false;
  private listIndex = 0;
  private raw: RawTask = newRawTask();
  private fieldSlot = 0;
  private fieldText = '';
  private pair: [string | null, string | null] = [null, null];
  private pairText = '';
  private pairSeen = 0;
  readonly tasks: BatchTaskInfo[] = [];
  readonly problems: ListedProblem[] = [];

  constructor(
    private readonly expected: string,
    private readonly timeZone: string,
  ) {
    this.driver = new SaxDriver(this);
    this.tree = new TreeBuilder(() => this.driver);
  }

  /** Parses the next piece of the body. Throws XmlSyntaxError or EnvelopeError; then the reader is done. */
  write(chunk: Buffer | string): void {
    this.driver.write(chunk);
  }

  /** Characters parsed so far. */
  get characters(): number {
    return this.driver.characters;
  }

  /** The body is complete: the envelope, the tasks and the tasks that could not be read. */
  end(): BatchAnswer {
    this.driver.end();
    if (!this.body) throw new EnvelopeError('SOAP envelope without Body');
    const soapHeaders = this.header?.children ?? [];
    return {
      envelope: {
        version: this.envelopeNs === SOAP11_NS ? '1.1' : '1.2',
        headers: [...soapHeaders, ...this.looseHeaders],
        soapHeaders,
        looseHeaders: this.looseHeaders,
        body: this.body,
      },
      tasks: this.tasks,
      problems: this.problems,
    };
  }

  open(local: string, ns: string, nil: boolean): void {
    const depth = this.kinds.length;
    const parent = depth === 0 ? null : this.kinds[depth - 1];
    let kind: Kind;
    switch (parent) {
      case null:
        if (local !== 'Envelope' || (ns !== SOAP11_NS && ns !== SOAP12_NS)) {
          throw new EnvelopeError(`not a SOAP envelope (root element ${local})`);
        }
        this.envelopeNs = ns;
        kind = Kind.Envelope;
        break;
      case Kind.Envelope:
        if (ns === this.envelopeNs && local === 'Body' && !this.body) {
          this.body = { name: local, ns, attributes: {}, children: [], text: '' };
          kind = Kind.Body;
        } else if (ns === this.envelopeNs && local === 'Header' && !this.header) {
          this.header = { name: local, ns, attributes: {}, children: [], text: '' };
          kind = Kind.Header;
        } else {
          this.tree.open(local, ns, (root) => this.looseHeaders.push(root));
          kind = Kind.Tree;
        }
        break;
      case Kind.Header: {
        const header = this.header as XmlElement;
        this.tree.open(local, ns, (root) => header.children.push(root));
        kind = Kind.Tree;
        break;
      }
      case Kind.Body: {
        const body = this.body as XmlElement;
        if (body.children.length === 0 && local === this.expected) {
          body.children.push({ name: local, ns, attributes: this.driver.attributes(), children: [], text: '' });
          kind = Kind.Operation;
        } else {
          this.tree.open(local, ns, (root) => body.children.push(root));
          kind = Kind.Tree;
        }
        break;
      }
      case Kind.Tree:
        this.tree.open(local, ns);
        kind = Kind.Tree;
        break;
      case Kind.Operation:
        // Only the first Response counts; a nil one means no tasks.
        if (local === 'Response' && !this.sawList) {
          this.sawList = true;
          kind = nil ? Kind.Skip : Kind.List;
        } else kind = Kind.Skip;
        break;
      case Kind.List:
        if (local === 'BatchTaskInfo') {
          this.listIndex += 1;
          if (nil) kind = Kind.Skip;
          else {
            this.raw = newRawTask();
            kind = Kind.Task;
          }
        } else kind = Kind.Skip;
        break;
      case Kind.Task:
        kind = this.openField(local, nil);
        break;
      case Kind.Parameters:
        if (local === 'StringKeyValuePair') {
          this.pair = [null, null];
          this.pairSeen = 0;
          kind = Kind.Pair;
        } else kind = Kind.Skip;
        break;
      case Kind.Pair: {
        // The first Key and the first Value count; nil stays null.
        const bit = local === 'Key' ? 1 : local === 'Value' ? 2 : 0;
        if (bit === 0 || this.pairSeen & bit || nil) {
          this.pairSeen |= bit;
          kind = Kind.Skip;
        } else {
          this.pairSeen |= bit;
          this.pairText = '';
          kind = bit === 1 ? Kind.PairKey : Kind.PairValue;
        }
        break;
      }
      default:
        // Inside a field, a skipped element, or a nested element of a field: nothing inside is read.
        kind = Kind.Skip;
    }
    this.kinds.push(kind);
  }

  private openField(local: string, nil: boolean): Kind {
    const slot = FIELD_SLOT.get(local);
    // Unknown fields (TableRight, FieldProperties, newer ones) and repeats of a field are ignored: the first counts.
    if (slot === undefined || this.raw.values[slot] !== undefined) return Kind.Skip;
    if (local === 'ParameterObject') {
      if (nil) {
        this.raw.values[slot] = null;
        return Kind.Skip;
      }
      this.raw.values[slot] = '';
      this.raw.parameters = [];
      return Kind.Parameters;
    }
    if (nil) {
      this.raw.values[slot] = null;
      return Kind.Skip;
    }
    this.fieldSlot = slot;
    this.fieldText = '';
    return Kind.Field;
  }

  text(text: string): void {
    switch (this.kinds[this.kinds.length - 1]) {
      case Kind.Field:
        if (this.fieldText.length + text.length > TASK_LIMITS.fieldText) {
          this.raw.overlong ??= TASK_FIELDS[this.fieldSlot] as TaskField;
        } else this.fieldText += text;
        return;
      case Kind.PairKey:
      case Kind.PairValue:
        if (this.pairText.length + text.length > TASK_LIMITS.fieldText) this.raw.overlong ??= 'ParameterObject';
        else this.pairText += text;
        return;
      case Kind.Tree:
        this.tree.text(text);
        return;
      default:
    }
  }

  close(): void {
    const kind = this.kinds.pop();
    switch (kind) {
      case Kind.Field:
        this.raw.values[this.fieldSlot] = this.fieldText;
        return;
      case Kind.PairKey:
        this.pair[0] = this.pairText;
        return;
      case Kind.PairValue:
        this.pair[1] = this.pairText;
        return;
      case Kind.Pair: {
        const list = this.raw.parameters as [string | null, string | null][];
        if (list.length >= TASK_LIMITS.parameters) this.raw.tooManyParameters = true;
        else list.push(this.pair);
        return;
      }
      case Kind.Task: {
        const reading = readTask(this.raw, this.timeZone);
        if (reading.ok) this.tasks.push(reading.task);
        else this.problems.push({ index: this.listIndex, ...reading.problem });
        return;
      }
      case Kind.Tree:
        this.tree.close();
        return;
      default:
    }
  }
}

/** Reads a whole answer held in memory (tests, benchmarks), fed in socket-sized pieces. */
export function readBatchAnswer(xml: string, expected: string, timeZone: string): BatchAnswer {
  const reader = new BatchResponseReader(expected, timeZone);
  for (let at = 0; at < xml.length; at += PIECE) reader.write(xml.slice(at, at + PIECE));
  return reader.end();
}
