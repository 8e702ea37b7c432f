#!/usr/bin/env node
import '../../bin/chute.js';
