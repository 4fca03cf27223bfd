#!/usr/bin/env node
// Entry point of the meshtv command; the code is built from src/ into dist/ by `npm run build`.
import { run } from '../dist/meshtv.js';

run(process.argv.slice(2));
