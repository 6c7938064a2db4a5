import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsKnownStatus } from '../../topups/topup-callback.js';
import { SIDOPULSA_STATUS } from './sidopulsa.facts.js';
import { IsPrintable } from '../../common/printable.js';

/**
 * A Sidopulsa transaction report (query fields). Values are free text with spaces, commas, dots
 * and colons (`message`); unknown fields are accepted and kept in `raw`.
 */
export class SidopulsaReportDto {
  /** Sidopulsa's transaction id. */
  @IsString()
  @Matches(/\S/, { message: 'serverid must not be empty' })
  @IsPrintable()
  @MaxLength(64)
  serverid!: string;

  /** The merchant's own refid. */
  @IsString()
  @Matches(/\S/, { message: 'clientid must not be empty' })
  @IsPrintable()
  @MaxLength(64)
  clientid!: string;

  /** Rupiah; at most two decimals so a thousands separator ("9.000") is refused, not read as 9. */
  @IsString()
  @Matches(/^\d{1,15}(\.\d{1,2})?$/, {
    message: 'price must be a decimal amount in rupiah, e.g. 9000',
  })
  price!: string;

  @IsKnownStatus(SIDOPULSA_STATUS)
  statuscode!: string;

  @IsOptional()
  @IsString()
  kp?: string;

  @IsOptional()
  @IsString()
  msisdn?: string;

  /** Operator serial number on success; a failure text ("Trx gagal") on failure. */
  @IsOptional()
  @IsString()
  sn?: string;

  @IsOptional()
  @IsString()
  message?: string;

  [field: string]: unknown;
}
