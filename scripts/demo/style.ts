import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

/** Colour only on a terminal, and never when NO_COLOR is set. */
const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

export const paint = (format: Format, text: string) => (useColour ? styleText(format, text, { validateStream: false }) : text);

export const bold = (text: string) => paint('bold', text);
export const dim = (text: string) => paint('dim', text);
export const good = (text: string) => paint('green', text);
export const bad = (text: string) => paint('red', text);
export const warn = (text: string) => paint('yellow', text);

export const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));

/** `2026-03-02 09:58` in UTC, the zone every vendor timestamp is in. */
export const shortTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
