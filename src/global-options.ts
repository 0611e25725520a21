/** Global options that take a value (`tsctr --root DIR ps`): main.ts parses them, the SEA loader skips them to find the command. */
export const GLOBAL_WITH_VALUE = new Set(['--root', '--runroot', '--storage-driver', '--log-level']);
