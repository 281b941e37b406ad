import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeUtf8Body } from '../shared/body.ts';
import { WebhookBodyError } from '../webhook-source.ts';

/**
 * SOAP plumbing for outbound messages: a parser that never expands custom entities, and the
 * envelopes Salesforce expects back.
 */

const notificationPath = 'Envelope.Body.notifications.Notification';

const parser = new XMLParser({
  // Prefixes vary between senders (soapenv:, sf:, none); the element names are what matter.
  removeNSPrefix: true,
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Only the predefined XML entities and character references are decoded (no DTD is admitted below).
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (_name, jPath) => jPath === notificationPath,
});

/** Parses an XML body into plain objects; refuses DTDs so no entity can be declared or expanded. */
export function parseSoapXml(rawBody: Buffer): unknown {
  const xml = decodeUtf8Body(rawBody);
  if (/<!DOCTYPE/i.test(xml)) throw new WebhookBodyError('malformed', 'XML with a DOCTYPE is not accepted');
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new WebhookBodyError('malformed', `body is not well-formed XML: ${msg} (line ${line}, column ${col})`);
  }
  try {
    return parser.parse(xml) as unknown;
  } catch (error) {
    // The parser also refuses names such as __proto__ that could pollute prototypes.
    const detail = error instanceof Error ? `: ${error.message}` : '';
    throw new WebhookBodyError('malformed', `body could not be read as XML${detail}`);
  }
}

/** The acknowledgement Salesforce's outbound-message WSDL defines; anything else is retried. */
export const outboundMessageAck = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>
</soapenv:Body></soapenv:Envelope>`;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A SOAP 1.1 fault; `Client` for problems with the request, `Server` for ours. */
export function soapFault(statusCode: number, message: string): string {
  const faultCode = statusCode >= 500 ? 'soapenv:Server' : 'soapenv:Client';
  return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>${faultCode}</faultcode><faultstring>${escapeXml(message)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
}
